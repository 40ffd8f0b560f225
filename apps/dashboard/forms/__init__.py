"""The dashboard's forms, one module per area, named like the area's views module."""
