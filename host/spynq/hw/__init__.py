"""Hardware-facing definitions shared by every tier: kernel interfaces, register maps, drivers."""
