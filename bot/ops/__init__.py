"""Operating the app: metrics, stats and retention."""
