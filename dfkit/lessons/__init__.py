"""Helpers of the course notebooks: the plots, widgets and training cells of each lesson.

One module per lesson keeps the notebooks short and readable; everything here is ordinary
library code, tested like the rest of dfkit.
"""
