using HpcCnn.Problems;
using HpcCnn.Reference;
using HpcCnn.Verification;

namespace HpcCnn;

/// <summary>Convolution (benchdnn's <c>--conv</c>): forward, backward data, backward weights (and bias).</summary>
internal sealed class ConvOperation : LayerOperation<ConvProblem>
{
    public override string Driver => "conv";

    internal override Problem Parse(string descriptor, IReadOnlyDictionary<string, string> options) =>
        ConvProblem.FromDescriptor(Descriptor.Parse(descriptor, ConvProblem.Keys, options));

    /// <summary>2·N·K·Ho·Wo·(C/G)·R·S in every direction: each is one multiply-add per tap and output.</summary>
    public override double Flops(Problem problem) => ((ConvProblem)problem).Flops;

    private protected override LayerPlan<ConvProblem> CreatePlan(Backend backend, ConvProblem p, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias) =>
        backend.CreateConvPlan(p, weights, bias);

    private protected override void ForwardOracle(ConvProblem p, float[] x, float[] w, float[] b, Expected expected)
    {
        int plane = (int)(p.OutHeight * p.OutWidth);
        Parallel.For(0, (long)p.Batch * p.OutChannels, i =>
            ReferenceKernels.ConvPlane(p, x, w, b, i / p.OutChannels, i % p.OutChannels,
                expected.Values.AsSpan((int)(i * plane), plane), expected.Magnitude.AsSpan((int)(i * plane), plane)));
    }

    private protected override void BackwardDataOracle(ConvProblem p, double[] dz, float[] w, Expected expected)
    {
        int plane = p.InHeight * p.InWidth;
        Parallel.For(0, (long)p.Batch * p.InChannels, i =>
            ReferenceKernels.ConvBackwardDataPlane(p, dz, w, i / p.InChannels, i % p.InChannels,
                expected.Values.AsSpan((int)(i * plane), plane), expected.Magnitude.AsSpan((int)(i * plane), plane)));
    }

    private protected override void BackwardWeightsOracle(ConvProblem p, float[] x, double[] dz, Expected weights, Expected bias)
    {
        int perChannel = (int)(p.WeightsLength / p.OutChannels);
        Parallel.For(0, p.OutChannels, k =>
            ReferenceKernels.ConvBackwardWeightsChannel(p, x, dz, k, weights.Values.AsSpan(k * perChannel, perChannel),
                weights.Magnitude.AsSpan(k * perChannel, perChannel), out bias.Values[k], out bias.Magnitude[k]));
    }
}
