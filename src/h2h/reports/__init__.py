"""Reports: the dashboard, its rollups, printable reports, exports and the digest."""
