//! Pooling kernels, forward and backward.
