"""tangtui: a terminal app to train and play with a character-level LSTM poet on 全唐诗."""

__version__ = "0.1.0"
