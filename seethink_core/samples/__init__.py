"""What happens to one sample on its way to a model: its prompt, its image bounds, length fitting."""
