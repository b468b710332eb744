"""Helpers behind the RFM segmentation notebooks: loading, cleaning, scoring, clustering,
plots and reporting. Notebooks stay thin; the logic lives here and is unit-tested."""
