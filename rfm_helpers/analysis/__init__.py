"""What comes after aggregation, on the per-customer table: the snapshot and outlier policy,
scores, segments, clusters, predictions, checks of the published tables, the exports.
"""
