"""Headless core of tangtui: corpus pipeline, the NumPy and Torch engines, the trainer, decoding.

Nothing in this package imports textual or tangtui; the NumPy path never imports torch.
"""
