using HpcCnn.Problems;

namespace HpcCnn.Reference;

/// <summary>The managed oracle as a backend: slow, obvious, single-threaded.</summary>
internal sealed class ReferenceBackend : Backend
{
    public override string Name => "reference";

    private protected override ConvPlan CreateConvPlanCore(ConvProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias) =>
        new ReferenceConvPlan(problem, weights.ToArray(), bias.ToArray());

    private protected override PoolPlan CreatePoolPlanCore(PoolProblem problem) => new ReferencePoolPlan(problem);

    private protected override void EltwiseCore(EltwiseOp op, float alpha, ReadOnlySpan<float> input, Span<float> output)
    {
        for (int i = 0; i < input.Length; i++) output[i] = (float)ReferenceKernels.Eltwise(op, alpha, input[i]);
    }

    private sealed class ReferenceConvPlan(ConvProblem problem, float[] weights, float[] bias) : ConvPlan(problem)
    {
        public override string Algorithm => "reference";
        public override string Isa => "managed";

        private protected override void RunCore(ReadOnlySpan<float> input, Span<float> output)
        {
            var p = Problem;
            int plane = (int)(p.OutHeight * p.OutWidth);
            var sum = new double[plane];
            var magnitude = new double[plane];
            for (long n = 0; n < p.Batch; n++)
                for (long k = 0; k < p.OutChannels; k++)
                {
                    ReferenceKernels.ConvPlane(p, input, weights, bias, n, k, sum, magnitude);
                    var y = output.Slice((int)((n * p.OutChannels + k) * plane), plane);
                    for (int i = 0; i < plane; i++) y[i] = (float)sum[i];
                }
        }
    }

    private sealed class ReferencePoolPlan(PoolProblem problem) : PoolPlan(problem)
    {
        public override string Algorithm => "reference";
        public override string Isa => "managed";

        private protected override void RunCore(ReadOnlySpan<float> input, Span<float> output)
        {
            var p = Problem;
            int i = 0;
            for (long plane = 0; plane < (long)p.Batch * p.Channels; plane++)
                for (long oh = 0; oh < p.OutHeight; oh++)
                    for (long ow = 0; ow < p.OutWidth; ow++)
                        output[i++] = (float)ReferenceKernels.Pool(p, input, plane, oh, ow, out _);
        }
    }
}
