"""Column names of the project's two input shapes, declared once for the Python side.

The SQL staging models read the same names (matching them loosely: any case, spaces or
underscores); here they are exact, for the files the synthetic generator writes and for the
columns the workbook reader hands to dbt.
"""

from __future__ import annotations

from typing import Final

# Online Retail II (UCI): one row per invoice line. The older Online Retail names InvoiceNo,
# UnitPrice and CustomerID are accepted by SQL as well but never written here.
ONLINE_RETAIL_II_COLUMNS: Final[tuple[str, ...]] = (
    "Invoice",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "Price",
    "Customer ID",
    "Country",
)

# FLO customer summaries: one row per customer; orders and value are online + offline.
FLO_COLUMNS: Final[tuple[str, ...]] = (
    "master_id",
    "order_channel",
    "last_order_channel",
    "first_order_date",
    "last_order_date",
    "last_order_date_online",
    "last_order_date_offline",
    "order_num_total_ever_online",
    "order_num_total_ever_offline",
    "customer_value_total_ever_offline",
    "customer_value_total_ever_online",
    "interested_in_categories_12",
)
