"""Reports: metrics over the store, the weekly workbook, and delivery-risk queries."""
