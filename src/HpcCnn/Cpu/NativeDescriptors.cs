using HpcCnn.Interop;
using HpcCnn.Problems;

namespace HpcCnn.Cpu;

/// <summary>Managed problems translated into the C API's descriptors.</summary>
internal static class NativeDescriptors
{
    public static hc_conv2d_desc Conv(ConvProblem p) => new()
    {
        batch = p.Batch,
        in_channels = p.InChannels,
        in_height = p.InHeight,
        in_width = p.InWidth,
        out_channels = p.OutChannels,
        kernel_height = p.KernelHeight,
        kernel_width = p.KernelWidth,
        stride_height = p.StrideHeight,
        stride_width = p.StrideWidth,
        pad_top = p.PadTop,
        pad_bottom = p.PadBottom,
        pad_left = p.PadLeft,
        pad_right = p.PadRight,
        dilation_height = p.DilationHeight,
        dilation_width = p.DilationWidth,
        groups = p.Groups,
        activation = p.Activation switch
        {
            Activation.None => hc_activation.HC_ACTIVATION_NONE,
            Activation.Relu => hc_activation.HC_ACTIVATION_RELU,
            Activation.LeakyRelu => hc_activation.HC_ACTIVATION_LEAKY_RELU,
            _ => throw new ArgumentOutOfRangeException(nameof(p), p.Activation, "unknown activation"),
        },
        activation_alpha = p.ActivationAlpha,
    };

    public static hc_pool2d_desc Pool(PoolProblem p) => new()
    {
        algorithm = p.Algorithm switch
        {
            PoolAlgorithm.Max => hc_pool_algorithm.HC_POOL_MAX,
            PoolAlgorithm.AverageIncludePadding => hc_pool_algorithm.HC_POOL_AVERAGE_INCLUDE_PADDING,
            PoolAlgorithm.AverageExcludePadding => hc_pool_algorithm.HC_POOL_AVERAGE_EXCLUDE_PADDING,
            _ => throw new ArgumentOutOfRangeException(nameof(p), p.Algorithm, "unknown pooling algorithm"),
        },
        batch = p.Batch,
        channels = p.Channels,
        in_height = p.InHeight,
        in_width = p.InWidth,
        kernel_height = p.KernelHeight,
        kernel_width = p.KernelWidth,
        stride_height = p.StrideHeight,
        stride_width = p.StrideWidth,
        pad_top = p.PadTop,
        pad_bottom = p.PadBottom,
        pad_left = p.PadLeft,
        pad_right = p.PadRight,
    };

    public static hc_eltwise_op Eltwise(EltwiseOp op) => op switch
    {
        EltwiseOp.Relu => hc_eltwise_op.HC_ELTWISE_RELU,
        EltwiseOp.LeakyRelu => hc_eltwise_op.HC_ELTWISE_LEAKY_RELU,
        EltwiseOp.Tanh => hc_eltwise_op.HC_ELTWISE_TANH,
        EltwiseOp.Sigmoid => hc_eltwise_op.HC_ELTWISE_SIGMOID,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown elementwise operation"),
    };
}
