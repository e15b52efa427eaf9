"""Scanner front doors: the MQTT subscriber, USB HID readers and the MQTT-to-HTTP bridge."""
