"""Event-based models whose point is how weights and delays are learned (issue 11), one
module per paper (others: axonal, ib_hebbian, by their helpers).

spikeprop  P5 (Wang 2023): multi-layer SRM network, each neuron fires at most once,
           per-synapse weights and delays, exact first-spike times, SpikeProp weight and
           delay gradients (eq. 16 sign-corrected), Gaussian population / latency encoders;
           ``python -m spynq.learning.spikeprop --dataset iris|cancer|xor``.
wtcrl      P4 (Fois & Girau): W-TCRL, population latency code, STDP with its fixed point,
           WTA with the homeostatic inhibition schedule, circular-mean decoding, RMS /
           sparsity / incoherence; ``python -m spynq.learning.wtcrl``.

Plain numpy (these are event/clock-driven simulations, not spynq.nn layer stacks);
figures go to build/learning/ through spynq.plotting.
"""
