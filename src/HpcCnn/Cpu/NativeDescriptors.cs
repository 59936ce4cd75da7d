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
        activation = Activation(p.Activation),
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

    public static hc_dense_desc Dense(DenseProblem p) => new()
    {
        batch = p.Batch,
        in_features = p.InFeatures,
        out_features = p.OutChannels,
        activation = Activation(p.Activation),
        activation_alpha = p.ActivationAlpha,
    };

    public static hc_softmax_desc Softmax(SoftmaxProblem p) => new() { batch = p.Batch, classes = p.Classes };

    public static hc_eltwise_desc Eltwise(EltwiseProblem p) => new() { activation = Activation(p.Activation), alpha = p.Alpha, length = p.Length };

    /// <summary>The numbers are the same by design (Problems/Activation.cs); a test checks them.</summary>
    public static hc_activation Activation(Activation activation) =>
        Enum.IsDefined(activation) ? (hc_activation)(int)activation : throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation");
}
