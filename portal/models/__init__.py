"""What the data is. Importing this package registers every table."""

from portal.models.credit_memos import (
    CreditMemoLine,
    CreditMemoLineType,
    CreditMemoStatus,
    SalesCreditMemo,
)
from portal.models.erp import (
    UNPOSTED,
    Customer,
    CustomerMapping,
    CustomerTemplate,
    Item,
    ItemMapping,
    ItemTemplate,
    ItemType,
    LineType,
    NumberSeries,
    SalesLine,
    SalesOrder,
    SalesOrderCoupon,
    SalesOrderRefund,
    SalesOrderStatus,
)
from portal.models.events import EventKind, OrderEvent
from portal.models.health import (
    Alert,
    Audit,
    AuditStatus,
    SeenVia,
    StoreOrder,
    StoreOrderState,
)
from portal.models.sync import (
    OrderLink,
    Outcome,
    RunKind,
    RunStatus,
    SyncLogEntry,
    SyncRun,
    Trigger,
)
from portal.models.users import LoginFailure, Role, User, UserSession
from portal.models.webhooks import WebhookDelivery
from portal.models.webstores import CustomerHandling, Webstore, WebstoreCountryTemplate
from portal.models.writebacks import StoreWriteback, WritebackState

__all__ = [
    "Alert",
    "Audit",
    "AuditStatus",
    "SeenVia",
    "StoreOrder",
    "StoreOrderState",
    "CreditMemoLine",
    "CreditMemoLineType",
    "CreditMemoStatus",
    "SalesCreditMemo",
    "RunKind",
    "Customer",
    "CustomerHandling",
    "CustomerMapping",
    "CustomerTemplate",
    "EventKind",
    "Item",
    "ItemMapping",
    "ItemTemplate",
    "ItemType",
    "LineType",
    "LoginFailure",
    "NumberSeries",
    "OrderEvent",
    "OrderLink",
    "Outcome",
    "Role",
    "RunStatus",
    "SalesLine",
    "SalesOrder",
    "SalesOrderCoupon",
    "SalesOrderRefund",
    "SalesOrderStatus",
    "UNPOSTED",
    "StoreWriteback",
    "SyncLogEntry",
    "SyncRun",
    "Trigger",
    "User",
    "UserSession",
    "WebhookDelivery",
    "Webstore",
    "WebstoreCountryTemplate",
    "WritebackState",
]
