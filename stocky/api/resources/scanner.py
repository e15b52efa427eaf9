from __future__ import annotations

from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.schemas.common import Page
from stocky.schemas.scan import ScanInto, ScannerStateUpdate, ScanRequest, ScanResult
from stocky.schemas.user import ScannerState


async def scan(call: Call) -> ScanResult:
    """One scan, exactly as the scanner read it. Send a `scan_id` when a
    delivery may be repeated (MQTT, retries): the same id counts once."""
    body: ScanRequest = call.body
    return await call.services.scans.scan(call.actor, body.msg, body.scan_id)


async def scan_into(call: Call) -> ScanResult:
    """"Where does it go?" answered on a screen: the scanner's refused scan
    is applied in the place chosen (the kiosk's tap on a place, from
    StockyWeb); with ``remember`` the scanner's location becomes that place."""
    body: ScanInto = call.body
    return await call.services.scans.scan_into(call.path_id("scanner"), body.location_id, body.msg, call.actor,
                                               remember=body.remember)


async def scanner_status(call: Call) -> Page[ScannerState]:
    states = await call.services.scans.states(call.actor)
    return Page[ScannerState](data=states, total=len(states))


async def set_scanner_state(call: Call) -> ScannerState:
    return await call.services.scans.set_state(call.path_id("scanner"), call.body, call.actor)


ROUTES = [
    Route("POST", "/scanner/scan", scan, Policy.SCAN, "Scan (barcode, label or command card)",
          "scanner", body=ScanRequest, response=ScanResult, errors=(404, 409)),
    Route("POST", "/scanner/{id}/scan-into", scan_into, Policy.SCANNER_STATE,
          "Apply a scanner's scan that needed a location into the one chosen", "scanner",
          body=ScanInto, response=ScanResult, errors=(404, 409)),
    Route("GET", "/scanner/status", scanner_status, Policy.READ,
          "Every scanner's mode, location and last scan", "scanner", response=Page[ScannerState]),
    Route("PUT", "/scanner/{id}/state", set_scanner_state, Policy.SCANNER_STATE,
          "Set a scanner's mode or location", "scanner",
          body=ScannerStateUpdate, response=ScannerState),
]
