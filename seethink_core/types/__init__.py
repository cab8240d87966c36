"""The plan and option types: plain data every layer exchanges; nothing here runs."""
