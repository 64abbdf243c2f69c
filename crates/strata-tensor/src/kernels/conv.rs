//! 2-D convolution kernels (im2col + gemm), forward and backward.
