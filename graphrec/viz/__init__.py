"""Figures and TensorBoard views."""
