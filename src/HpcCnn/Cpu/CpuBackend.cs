using HpcCnn.Interop;
using HpcCnn.Problems;

namespace HpcCnn.Cpu;

/// <summary>Instruction sets the native kernels are written for, in increasing order.</summary>
public enum CpuIsa
{
    /// <summary>No cap: the best the CPU supports (itself capped by the HPCCNN_MAX_ISA environment variable).</summary>
    Auto,
    /// <summary>Portable C.</summary>
    Generic,
    /// <summary>AVX2 with FMA3.</summary>
    Avx2,
    /// <summary>AVX-512F (with AVX2 and FMA3).</summary>
    Avx512,
}

/// <summary>Options of the native CPU backend.</summary>
public sealed record CpuBackendOptions
{
    /// <summary>
    /// Threads one call may use; 0 means <see cref="Environment.ProcessorCount"/>, which respects
    /// the process's affinity and a container's CPU quota (the C library's own default,
    /// <c>hc_default_num_threads()</c>, counts the machine's processors).
    /// </summary>
    public int Threads { get; init; }

    /// <summary>The best instruction set plans may use, e.g. <see cref="CpuIsa.Generic"/> to test the portable path.</summary>
    public CpuIsa MaxIsa { get; init; }
}

/// <summary>
/// The native backend: C11 kernels in libhpccnn.so, threaded with OpenMP inside each call,
/// called through P/Invoke with spans pinned for the duration of the call only.
/// </summary>
public sealed unsafe class CpuBackend : Backend
{
    private readonly hc_plan_options options;

    /// <exception cref="DllNotFoundException">libhpccnn.so cannot be loaded; the message lists every path tried and why it failed.</exception>
    public CpuBackend(CpuBackendOptions? options = null)
    {
        options ??= new CpuBackendOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Threads, nameof(options.Threads));
        if (!Enum.IsDefined(options.MaxIsa))
            throw new ArgumentOutOfRangeException(nameof(options.MaxIsa), options.MaxIsa, "unknown instruction set");
        NativeLibraryLoader.EnsureLoaded();
        Threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        this.options = new hc_plan_options
        {
            num_threads = Threads,
            max_isa = options.MaxIsa switch
            {
                CpuIsa.Generic => hc_isa.HC_ISA_GENERIC,
                CpuIsa.Avx2 => hc_isa.HC_ISA_AVX2,
                CpuIsa.Avx512 => hc_isa.HC_ISA_AVX512,
                _ => hc_isa.HC_ISA_AUTO,
            },
        };
        MaxIsa = options.MaxIsa;
    }

    public override string Name => "cpu";

    /// <summary>Threads each call uses.</summary>
    public int Threads { get; }

    /// <summary>The instruction-set cap this backend's plans were asked for.</summary>
    public CpuIsa MaxIsa { get; }

    public override string ToString() => MaxIsa == CpuIsa.Auto ? Name : $"{Name}[{MaxIsa.ToString().ToLowerInvariant()}]";

    private protected override ConvPlan CreateConvPlanCore(ConvProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        var desc = NativeDescriptors.Conv(problem);
        var planOptions = options;
        hc_plan_handle handle;
        hc_status status;
        fixed (float* w = weights)
        fixed (float* b = bias)
            status = NativeMethods.hc_conv2d_create(&desc, NativePlan.Direction(problem.Direction), w, weights.Length, b, bias.Length, &planOptions, out handle);
        return new CpuConvPlan(problem, new NativePlan(status, handle, nameof(NativeMethods.hc_conv2d_create)), hasWeights: !weights.IsEmpty);
    }

    private protected override PoolPlan CreatePoolPlanCore(PoolProblem problem)
    {
        var desc = NativeDescriptors.Pool(problem);
        var planOptions = options;
        var status = NativeMethods.hc_pool2d_create(&desc, NativePlan.Direction(problem.Direction), &planOptions, out var handle);
        return new CpuPoolPlan(problem, new NativePlan(status, handle, nameof(NativeMethods.hc_pool2d_create)));
    }

    private protected override EltwisePlan CreateEltwisePlanCore(EltwiseProblem problem)
    {
        var desc = NativeDescriptors.Eltwise(problem);
        var planOptions = options;
        var status = NativeMethods.hc_eltwise_create(&desc, NativePlan.Direction(problem.Direction), &planOptions, out var handle);
        return new CpuEltwisePlan(problem, new NativePlan(status, handle, nameof(NativeMethods.hc_eltwise_create)));
    }

    private protected override DensePlan CreateDensePlanCore(DenseProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        var desc = NativeDescriptors.Dense(problem);
        var planOptions = options;
        hc_plan_handle handle;
        hc_status status;
        fixed (float* w = weights)
        fixed (float* b = bias)
            status = NativeMethods.hc_dense_create(&desc, NativePlan.Direction(problem.Direction), w, weights.Length, b, bias.Length, &planOptions, out handle);
        return new CpuDensePlan(problem, new NativePlan(status, handle, nameof(NativeMethods.hc_dense_create)), hasWeights: !weights.IsEmpty);
    }

    private protected override SoftmaxPlan CreateSoftmaxPlanCore(SoftmaxProblem problem)
    {
        var desc = NativeDescriptors.Softmax(problem);
        var planOptions = options;
        var status = NativeMethods.hc_softmax_create(&desc, NativePlan.Direction(problem.Direction), &planOptions, out var handle);
        return new CpuSoftmaxPlan(problem, new NativePlan(status, handle, nameof(NativeMethods.hc_softmax_create)));
    }

    private protected override void DropoutCore(Training.DropoutMask dropout, long step, ReadOnlySpan<float> input, Span<float> output)
    {
        var desc = new hc_dropout_desc { rate = dropout.Rate, seed = dropout.Seed };
        var planOptions = options;
        fixed (float* x = input, y = output)
            NativeStatus.Check(NativeMethods.hc_dropout_forward(&desc, step, x, y, input.Length, &planOptions), nameof(NativeMethods.hc_dropout_forward));
    }

    private protected override void SgdCore(Training.Sgd sgd, Span<float> weights, ReadOnlySpan<float> gradients, Span<float> velocity)
    {
        var desc = new hc_sgd_desc { learning_rate = sgd.LearningRate, momentum = sgd.Momentum, weight_decay = sgd.WeightDecay, nesterov = sgd.Nesterov ? 1 : 0 };
        var planOptions = options;
        fixed (float* w = weights, g = gradients, v = velocity)
            NativeStatus.Check(NativeMethods.hc_sgd_update(&desc, w, g, v, weights.Length, &planOptions), nameof(NativeMethods.hc_sgd_update));
    }

    private protected override void AdamCore(Training.Adam adam, long step, Span<float> weights, ReadOnlySpan<float> gradients,
        Span<float> firstMoment, Span<float> secondMoment)
    {
        var desc = new hc_adam_desc
        {
            learning_rate = adam.LearningRate, beta1 = adam.Beta1, beta2 = adam.Beta2, epsilon = adam.Epsilon, weight_decay = adam.WeightDecay,
        };
        var planOptions = options;
        fixed (float* w = weights, g = gradients, m = firstMoment, v = secondMoment)
            NativeStatus.Check(NativeMethods.hc_adam_update(&desc, step, w, g, m, v, weights.Length, &planOptions), nameof(NativeMethods.hc_adam_update));
    }

    private sealed class CpuSoftmaxPlan(SoftmaxProblem problem, NativePlan native) : SoftmaxPlan(problem)
    {
        public override string Algorithm => native.Algorithm;
        public override string Isa => native.Isa;

        private protected override float ForwardCore(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> probabilities)
        {
            float loss = float.NaN;
            fixed (float* x = logits, p = probabilities)
            fixed (int* l = labels)
            {
                if (labels.IsEmpty)
                {
                    native.Execute([NativePlan.Arg(hc_arg_kind.HC_ARG_SRC, x, logits.Length), NativePlan.Arg(hc_arg_kind.HC_ARG_DST, p, probabilities.Length)]);
                }
                else
                {
                    native.Execute([NativePlan.Arg(hc_arg_kind.HC_ARG_SRC, x, logits.Length), NativePlan.Arg(hc_arg_kind.HC_ARG_LABELS, l, labels.Length),
                        NativePlan.Arg(hc_arg_kind.HC_ARG_DST, p, probabilities.Length), NativePlan.Arg(hc_arg_kind.HC_ARG_LOSS, &loss, 1)]);
                }
            }
            return loss;
        }

        private protected override void BackwardCore(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> labels, Span<float> diffLogits)
        {
            fixed (float* p = probabilities, dx = diffLogits)
            fixed (int* l = labels)
                native.Execute([NativePlan.Arg(hc_arg_kind.HC_ARG_DST, p, probabilities.Length), NativePlan.Arg(hc_arg_kind.HC_ARG_LABELS, l, labels.Length),
                    NativePlan.Arg(hc_arg_kind.HC_ARG_DIFF_SRC, dx, diffLogits.Length)]);
        }

        private protected override void ReleaseResources() => native.Dispose();
    }

    private sealed class CpuConvPlan : ConvPlan
    {
        private readonly NativePlan native;

        public CpuConvPlan(ConvProblem problem, NativePlan native, bool hasWeights) : base(problem)
        {
            this.native = native;
            if (hasWeights) WeightsGiven();
        }

        public override string Algorithm => native.Algorithm;
        public override string Isa => native.Isa;
        private protected override void SetWeightsCore(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias) => native.SetWeights(weights, bias);
        private protected override void ForwardCore(ReadOnlySpan<float> input, Span<float> output) => native.Forward(input, output);
        private protected override void BackwardDataCore(ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output, Span<float> diffInput) =>
            native.BackwardData(diffOutput, output, diffInput);
        private protected override void BackwardWeightsCore(ReadOnlySpan<float> input, ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output,
            Span<float> diffWeights, Span<float> diffBias) => native.BackwardWeights(input, diffOutput, output, diffWeights, diffBias);
        private protected override void ReleaseResources() => native.Dispose();
    }

    private sealed class CpuDensePlan : DensePlan
    {
        private readonly NativePlan native;

        public CpuDensePlan(DenseProblem problem, NativePlan native, bool hasWeights) : base(problem)
        {
            this.native = native;
            if (hasWeights) WeightsGiven();
        }

        public override string Algorithm => native.Algorithm;
        public override string Isa => native.Isa;
        private protected override void SetWeightsCore(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias) => native.SetWeights(weights, bias);
        private protected override void ForwardCore(ReadOnlySpan<float> input, Span<float> output) => native.Forward(input, output);
        private protected override void BackwardDataCore(ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output, Span<float> diffInput) =>
            native.BackwardData(diffOutput, output, diffInput);
        private protected override void BackwardWeightsCore(ReadOnlySpan<float> input, ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output,
            Span<float> diffWeights, Span<float> diffBias) => native.BackwardWeights(input, diffOutput, output, diffWeights, diffBias);
        private protected override void ReleaseResources() => native.Dispose();
    }

    private sealed class CpuPoolPlan(PoolProblem problem, NativePlan native) : PoolPlan(problem)
    {
        public override string Algorithm => native.Algorithm;
        public override string Isa => native.Isa;

        private protected override void ForwardCore(ReadOnlySpan<float> input, Span<float> output, Span<int> workspace)
        {
            fixed (float* x = input, y = output)
            fixed (int* w = workspace)
            {
                Span<hc_arg> args =
                [
                    NativePlan.Arg(hc_arg_kind.HC_ARG_SRC, x, input.Length),
                    NativePlan.Arg(hc_arg_kind.HC_ARG_DST, y, output.Length),
                    NativePlan.Arg(hc_arg_kind.HC_ARG_WORKSPACE, w, workspace.Length),
                ];
                native.Execute(workspace.IsEmpty ? args[..2] : args);
            }
        }

        private protected override void BackwardCore(ReadOnlySpan<float> diffOutput, ReadOnlySpan<int> workspace, Span<float> diffInput)
        {
            fixed (float* dy = diffOutput, dx = diffInput)
            fixed (int* w = workspace)
            {
                Span<hc_arg> args =
                [
                    NativePlan.Arg(hc_arg_kind.HC_ARG_DIFF_DST, dy, diffOutput.Length),
                    NativePlan.Arg(hc_arg_kind.HC_ARG_DIFF_SRC, dx, diffInput.Length),
                    NativePlan.Arg(hc_arg_kind.HC_ARG_WORKSPACE, w, workspace.Length),
                ];
                native.Execute(workspace.IsEmpty ? args[..2] : args);
            }
        }

        private protected override void ReleaseResources() => native.Dispose();
    }

    private sealed class CpuEltwisePlan(EltwiseProblem problem, NativePlan native) : EltwisePlan(problem)
    {
        public override string Algorithm => native.Algorithm;
        public override string Isa => native.Isa;

        private protected override void ForwardCore(ReadOnlySpan<float> input, Span<float> output) => native.Forward(input, output);

        private protected override void BackwardCore(ReadOnlySpan<float> output, ReadOnlySpan<float> diffOutput, Span<float> diffInput)
        {
            fixed (float* y = output, dy = diffOutput, dx = diffInput)
                native.Execute(
                [
                    NativePlan.Arg(hc_arg_kind.HC_ARG_DST, y, output.Length),
                    NativePlan.Arg(hc_arg_kind.HC_ARG_DIFF_DST, dy, diffOutput.Length),
                    NativePlan.Arg(hc_arg_kind.HC_ARG_DIFF_SRC, dx, diffInput.Length),
                ]);
        }

        private protected override void ReleaseResources() => native.Dispose();
    }
}
