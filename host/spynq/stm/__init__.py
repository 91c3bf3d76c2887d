"""STM: sampling-tree model, Bayesian inference by importance sampling (seed 003, FPGA/PYNQ paper)."""
