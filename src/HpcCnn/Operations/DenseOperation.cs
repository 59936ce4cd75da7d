using HpcCnn.Problems;
using HpcCnn.Reference;
using HpcCnn.Verification;

namespace HpcCnn;

/// <summary>The dense layer (benchdnn's <c>--ip</c>, inner product): forward, backward data, backward weights (and bias).</summary>
internal sealed class DenseOperation : LayerOperation<DenseProblem>
{
    public override string Driver => "ip";

    internal override Problem Parse(string descriptor, IReadOnlyDictionary<string, string> options) =>
        DenseProblem.FromDescriptor(Descriptor.Parse(descriptor, DenseProblem.Keys, options));

    /// <summary>2·batch·out·in in every direction.</summary>
    public override double Flops(Problem problem) => ((DenseProblem)problem).Flops;

    private protected override LayerPlan<DenseProblem> CreatePlan(Backend backend, DenseProblem p, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias) =>
        backend.CreateDensePlan(p, weights, bias);

    private protected override void ForwardOracle(DenseProblem p, float[] x, float[] w, float[] b, Expected expected) =>
        Parallel.For(0, p.Batch, row =>
            ReferenceKernels.DenseForwardRow(p, x, w, b, row, expected.Values.AsSpan(row * p.OutChannels, p.OutChannels),
                expected.Magnitude.AsSpan(row * p.OutChannels, p.OutChannels)));

    private protected override void BackwardDataOracle(DenseProblem p, double[] dz, float[] w, Expected expected)
    {
        int features = (int)p.InFeatures;
        Parallel.For(0, p.Batch, row =>
            ReferenceKernels.DenseBackwardDataRow(p, dz, w, row, expected.Values.AsSpan(row * features, features),
                expected.Magnitude.AsSpan(row * features, features)));
    }

    private protected override void BackwardWeightsOracle(DenseProblem p, float[] x, double[] dz, Expected weights, Expected bias)
    {
        int features = (int)p.InFeatures;
        Parallel.For(0, p.OutChannels, o =>
            ReferenceKernels.DenseBackwardWeightsRow(p, x, dz, o, weights.Values.AsSpan(o * features, features),
                weights.Magnitude.AsSpan(o * features, features), out bias.Values[o], out bias.Magnitude[o]));
    }
}
