using HpcCnn.Problems;

namespace HpcCnn.Reference;

/// <summary>The managed oracle as a backend: slow, obvious, single-threaded, every direction from the definitions in double.</summary>
internal sealed class ReferenceBackend : Backend
{
    public override string Name => "reference";

    private protected override ConvPlan CreateConvPlanCore(ConvProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias) =>
        new ReferenceConvPlan(problem, weights, bias);

    private protected override DensePlan CreateDensePlanCore(DenseProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias) =>
        new ReferenceDensePlan(problem, weights, bias);

    private protected override PoolPlan CreatePoolPlanCore(PoolProblem problem) => new ReferencePoolPlan(problem);

    private protected override EltwisePlan CreateEltwisePlanCore(EltwiseProblem problem) => new ReferenceEltwisePlan(problem);

    private protected override SoftmaxPlan CreateSoftmaxPlanCore(SoftmaxProblem problem) => new ReferenceSoftmaxPlan(problem);

    private protected override void DropoutCore(Training.DropoutMask dropout, long step, ReadOnlySpan<float> input, Span<float> output) =>
        ReferenceTraining.Dropout(dropout, step, input, output);

    private protected override void SgdCore(Training.Sgd sgd, Span<float> weights, ReadOnlySpan<float> gradients, Span<float> velocity) =>
        ReferenceTraining.Sgd(sgd, weights, gradients, velocity);

    private protected override void AdamCore(Training.Adam adam, long step, Span<float> weights, ReadOnlySpan<float> gradients,
        Span<float> firstMoment, Span<float> secondMoment) => ReferenceTraining.Adam(adam, step, weights, gradients, firstMoment, secondMoment);

    private sealed class ReferenceConvPlan : ConvPlan
    {
        private float[] weights = [], bias = [];

        public ReferenceConvPlan(ConvProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias) : base(problem)
        {
            if (weights.IsEmpty) return;
            SetWeightsCore(weights, bias);
            WeightsGiven();
        }

        public override string Algorithm => "reference";
        public override string Isa => "managed";

        private protected override void SetWeightsCore(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
        {
            this.weights = weights.ToArray();
            this.bias = bias.ToArray();
        }

        private protected override void ForwardCore(ReadOnlySpan<float> input, Span<float> output)
        {
            var p = Problem;
            int plane = (int)(p.OutHeight * p.OutWidth);
            var sum = new double[plane];
            var magnitude = new double[plane];
            for (long n = 0; n < p.Batch; n++)
                for (long k = 0; k < p.OutChannels; k++)
                {
                    ReferenceKernels.ConvPlane(p, input, weights, bias, n, k, sum, magnitude);
                    Store(sum, output.Slice((int)((n * p.OutChannels + k) * plane), plane));
                }
        }

        private protected override void BackwardDataCore(ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output, Span<float> diffInput)
        {
            var p = Problem;
            var dz = ReferenceKernels.PreActivationGradient(p.Activation, p.ActivationAlpha, diffOutput, output);
            int plane = p.InHeight * p.InWidth;
            var sum = new double[plane];
            var magnitude = new double[plane];
            for (long n = 0; n < p.Batch; n++)
                for (long c = 0; c < p.InChannels; c++)
                {
                    ReferenceKernels.ConvBackwardDataPlane(p, dz, weights, n, c, sum, magnitude);
                    Store(sum, diffInput.Slice((int)((n * p.InChannels + c) * plane), plane));
                }
        }

        private protected override void BackwardWeightsCore(ReadOnlySpan<float> input, ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output,
            Span<float> diffWeights, Span<float> diffBias)
        {
            var p = Problem;
            var dz = ReferenceKernels.PreActivationGradient(p.Activation, p.ActivationAlpha, diffOutput, output);
            int perChannel = (int)(p.WeightsLength / p.OutChannels);
            var sum = new double[perChannel];
            var magnitude = new double[perChannel];
            for (long k = 0; k < p.OutChannels; k++)
            {
                ReferenceKernels.ConvBackwardWeightsChannel(p, input, dz, k, sum, magnitude, out double db, out _);
                Store(sum, diffWeights.Slice((int)(k * perChannel), perChannel));
                if (!diffBias.IsEmpty) diffBias[(int)k] = (float)db;
            }
        }
    }

    private sealed class ReferenceDensePlan : DensePlan
    {
        private float[] weights = [], bias = [];

        public ReferenceDensePlan(DenseProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias) : base(problem)
        {
            if (weights.IsEmpty) return;
            SetWeightsCore(weights, bias);
            WeightsGiven();
        }

        public override string Algorithm => "reference";
        public override string Isa => "managed";

        private protected override void SetWeightsCore(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
        {
            this.weights = weights.ToArray();
            this.bias = bias.ToArray();
        }

        private protected override void ForwardCore(ReadOnlySpan<float> input, Span<float> output)
        {
            var p = Problem;
            var (sum, magnitude) = (new double[p.OutChannels], new double[p.OutChannels]);
            for (long b = 0; b < p.Batch; b++)
            {
                ReferenceKernels.DenseForwardRow(p, input, weights, bias, b, sum, magnitude);
                Store(sum, output.Slice((int)(b * p.OutChannels), p.OutChannels));
            }
        }

        private protected override void BackwardDataCore(ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output, Span<float> diffInput)
        {
            var p = Problem;
            var dz = ReferenceKernels.PreActivationGradient(p.Activation, p.ActivationAlpha, diffOutput, output);
            int features = (int)p.InFeatures;
            var (sum, magnitude) = (new double[features], new double[features]);
            for (long b = 0; b < p.Batch; b++)
            {
                ReferenceKernels.DenseBackwardDataRow(p, dz, weights, b, sum, magnitude);
                Store(sum, diffInput.Slice((int)(b * features), features));
            }
        }

        private protected override void BackwardWeightsCore(ReadOnlySpan<float> input, ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output,
            Span<float> diffWeights, Span<float> diffBias)
        {
            var p = Problem;
            var dz = ReferenceKernels.PreActivationGradient(p.Activation, p.ActivationAlpha, diffOutput, output);
            int features = (int)p.InFeatures;
            var (sum, magnitude) = (new double[features], new double[features]);
            for (long o = 0; o < p.OutChannels; o++)
            {
                ReferenceKernels.DenseBackwardWeightsRow(p, input, dz, o, sum, magnitude, out double db, out _);
                Store(sum, diffWeights.Slice((int)(o * features), features));
                if (!diffBias.IsEmpty) diffBias[(int)o] = (float)db;
            }
        }
    }

    private sealed class ReferencePoolPlan(PoolProblem problem) : PoolPlan(problem)
    {
        public override string Algorithm => "reference";
        public override string Isa => "managed";

        private protected override void ForwardCore(ReadOnlySpan<float> input, Span<float> output, Span<int> workspace)
        {
            var p = Problem;
            int i = 0;
            for (long plane = 0; plane < (long)p.Batch * p.Channels; plane++)
                for (long oh = 0; oh < p.OutHeight; oh++)
                    for (long ow = 0; ow < p.OutWidth; ow++, i++)
                    {
                        output[i] = (float)ReferenceKernels.Pool(p, input, plane, oh, ow, out _);
                        if (!workspace.IsEmpty) workspace[i] = ReferenceKernels.PoolArgmax(p, input, plane, oh, ow);
                    }
        }

        private protected override void BackwardCore(ReadOnlySpan<float> diffOutput, ReadOnlySpan<int> workspace, Span<float> diffInput)
        {
            var p = Problem;
            int plane = p.InHeight * p.InWidth;
            var sum = new double[plane];
            var magnitude = new double[plane];
            for (long i = 0; i < (long)p.Batch * p.Channels; i++)
            {
                ReferenceKernels.PoolBackwardPlane(p, diffOutput, workspace, i, sum, magnitude);
                Store(sum, diffInput.Slice((int)(i * plane), plane));
            }
        }
    }

    private sealed class ReferenceEltwisePlan(EltwiseProblem problem) : EltwisePlan(problem)
    {
        public override string Algorithm => "reference";
        public override string Isa => "managed";

        private protected override void ForwardCore(ReadOnlySpan<float> input, Span<float> output)
        {
            for (int i = 0; i < input.Length; i++) output[i] = (float)ReferenceKernels.Activate(Problem.Activation, Problem.Alpha, input[i]);
        }

        private protected override void BackwardCore(ReadOnlySpan<float> output, ReadOnlySpan<float> diffOutput, Span<float> diffInput)
        {
            for (int i = 0; i < output.Length; i++)
                diffInput[i] = (float)ReferenceKernels.ActivateBackward(Problem.Activation, Problem.Alpha, output[i], diffOutput[i]);
        }
    }

    private sealed class ReferenceSoftmaxPlan(SoftmaxProblem problem) : SoftmaxPlan(problem)
    {
        public override string Algorithm => "reference";
        public override string Isa => "managed";

        private protected override float ForwardCore(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> probabilities)
        {
            int classes = Problem.Classes;
            var p = new double[classes];
            double total = 0;
            for (int b = 0; b < Problem.Batch; b++)
            {
                var row = logits.Slice(b * classes, classes);
                double logSumExp = ReferenceKernels.SoftmaxRow(row, p);
                Store(p, probabilities.Slice(b * classes, classes));
                if (!labels.IsEmpty) total += logSumExp - row[labels[b]];
            }
            return labels.IsEmpty ? float.NaN : (float)(total / Problem.Batch);
        }

        private protected override void BackwardCore(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> labels, Span<float> diffLogits)
        {
            int classes = Problem.Classes;
            for (int i = 0; i < probabilities.Length; i++)
                diffLogits[i] = (float)((probabilities[i] - (i % classes == labels[i / classes] ? 1.0 : 0.0)) / Problem.Batch);
        }
    }

    private static void Store(ReadOnlySpan<double> values, Span<float> destination)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = (float)values[i];
    }
}
