"""Touch widgets shared by the views."""
