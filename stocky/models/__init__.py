"""The ORM models; importing this package registers every table on ``Base``."""

from stocky.models.alert import Alert
from stocky.models.base import Base
from stocky.models.item import Item
from stocky.models.location import Location
from stocky.models.lot import Lot
from stocky.models.sku import Sku
from stocky.models.stock_change import StockChange
from stocky.models.user import User
from stocky.models.web_session import RetiredToken, WebSession

__all__ = [
    "Alert", "Base", "Item", "Location", "Lot", "RetiredToken", "Sku", "StockChange", "User", "WebSession",
]
