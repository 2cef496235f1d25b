"""Sequence models of the course: teacher forcing, full-sequence diffusion and Diffusion Forcing."""
