"""Presenting a dataset to people: one home for wording (``words``), the review report
(Markdown and HTML), ``show``, the listings and the export. Data in, text or files' bytes out;
only ``pipeline/store`` writes them."""
