"""Co-simulation support: Vitis-shaped shells, cocotb benches and a PYNQ device that routes into Verilator."""
