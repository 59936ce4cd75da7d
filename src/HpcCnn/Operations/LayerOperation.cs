using HpcCnn.OpenCl;
using HpcCnn.Problems;
using HpcCnn.Reference;
using HpcCnn.Verification;

namespace HpcCnn;

/// <summary>
/// What the operations with weights (convolution, dense) share: seeded data, the check of every
/// direction against the oracle, runs for the tests and preparation for timing. A subclass gives
/// the oracle of each direction and makes plans.
/// </summary>
internal abstract class LayerOperation<TProblem> : Operation where TProblem : Problem, IWeightedProblem
{
    public override IReadOnlyList<Direction> Directions { get; } =
        [Direction.ForwardInference, Direction.ForwardTraining, Direction.BackwardData, Direction.BackwardWeights, Direction.BackwardWeightsAndBias];

    internal override IReadOnlyList<string> Options { get; } = ["attr-post-ops"];

    public override double Bytes(Problem problem)
    {
        var p = (TProblem)problem;
        double activations = p.InputLength + p.OutputLength;
        return sizeof(float) * (p.Direction.IsBackwardWeights() ? activations + p.WeightsLength : activations);
    }

    /// <summary>The plan for the problem's direction, with weights where it uses them.</summary>
    private protected abstract LayerPlan<TProblem> CreatePlan(Backend backend, TProblem p, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias);

    /// <summary>The forward output and the magnitudes of its sums, into <paramref name="expected"/>.</summary>
    private protected abstract void ForwardOracle(TProblem p, float[] x, float[] w, float[] b, Expected expected);

    /// <summary>dL/dx from dL/dz, into <paramref name="expected"/>.</summary>
    private protected abstract void BackwardDataOracle(TProblem p, double[] dz, float[] w, Expected expected);

    /// <summary>dL/dw and dL/db from x and dL/dz.</summary>
    private protected abstract void BackwardWeightsOracle(TProblem p, float[] x, double[] dz, Expected weights, Expected bias);

    public override IReadOnlyList<CheckResult> Check(IReadOnlyList<Backend> backends, Problem problem, FillKind fill, int seed, Tolerance tolerance)
    {
        var p = Validated<TProblem>(problem);
        var data = new Data(p, fill, seed);
        string text = p.ToString();
        var results = new List<CheckResult>();
        if (p.Direction.IsForward())
        {
            // The sum is exact on integer fills and ReLU or a slope is one correctly rounded product; tanh and sigmoid are not exact.
            bool exactForward = fill.IsInteger() && p.Activation is Activation.None or Activation.Relu or Activation.LeakyRelu;
            var expected = new Expected("DST", new double[p.OutputLength], new double[p.OutputLength], exactForward);
            ForwardOracle(p, data.X, data.W, data.B, expected);
            foreach (var backend in backends)
            {
                var (plan, outputs) = Outputs(backend, p, data);
                using (plan) results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, expected, outputs[0]));
            }
            return results;
        }

        // Backward: dL/dz = act'(y)·dL/dy is exact on integer fills unless a slope that is not a power of two enters first.
        bool exact = fill.IsInteger() && p.Activation switch
        {
            Activation.None or Activation.Relu => true,
            Activation.LeakyRelu => CrossCheck.IsPowerOfTwoOrZero(p.ActivationAlpha),
            _ => false,
        };
        var dz = ReferenceKernels.PreActivationGradient(p.Activation, p.ActivationAlpha, data.DiffY, data.Y);
        if (p.Direction == Direction.BackwardData)
        {
            var expected = new Expected("DIFF_SRC", new double[p.InputLength], new double[p.InputLength], exact);
            BackwardDataOracle(p, dz, data.W, expected);
            foreach (var backend in backends)
            {
                var (plan, outputs) = Outputs(backend, p, data);
                using (plan) results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, expected, outputs[0]));
            }
            return results;
        }

        bool withBias = p.Direction == Direction.BackwardWeightsAndBias;
        var weights = new Expected("DIFF_WEIGHTS", new double[p.WeightsLength], new double[p.WeightsLength], exact);
        var bias = new Expected("DIFF_BIAS", new double[p.BiasLength], new double[p.BiasLength], exact);
        BackwardWeightsOracle(p, data.X, dz, weights, bias);
        foreach (var backend in backends)
        {
            var (plan, outputs) = Outputs(backend, p, data);
            using (plan)
            {
                results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, weights, outputs[0]));
                if (withBias) results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, bias, outputs[1]));
            }
        }
        return results;
    }

    internal override float[] Run(Backend backend, Problem problem, FillKind fill, int seed)
    {
        var p = Validated<TProblem>(problem);
        var (plan, outputs) = Outputs(backend, p, new Data(p, fill, seed));
        plan.Dispose();
        return outputs.SelectMany(o => CrossCheck.Body(o).ToArray()).ToArray();
    }

    /// <summary>Runs the problem's direction once; the outputs in role order, each with its guard (<see cref="CrossCheck.OutputBuffer"/>).</summary>
    private (LayerPlan<TProblem> Plan, float[][] Outputs) Outputs(Backend backend, TProblem p, Data data)
    {
        var plan = p.Direction.IsBackwardWeights() ? CreatePlan(backend, p, default, default) : CreatePlan(backend, p, data.W, data.B);
        try
        {
            switch (p.Direction)
            {
                case Direction.ForwardInference or Direction.ForwardTraining:
                {
                    var y = CrossCheck.OutputBuffer(p.OutputLength);
                    plan.Forward(data.X, CrossCheck.Body(y));
                    return (plan, [y]);
                }
                case Direction.BackwardData:
                {
                    var dx = CrossCheck.OutputBuffer(p.InputLength);
                    plan.BackwardData(data.DiffY, CrossCheck.Body(dx), data.Y);
                    return (plan, [dx]);
                }
                default:
                {
                    var dw = CrossCheck.OutputBuffer(p.WeightsLength);
                    var db = CrossCheck.OutputBuffer(p.Direction == Direction.BackwardWeightsAndBias ? p.BiasLength : 0);
                    plan.BackwardWeights(data.X, data.DiffY, CrossCheck.Body(dw), CrossCheck.Body(db), data.Y);
                    return (plan, [dw, db]);
                }
            }
        }
        catch
        {
            plan.Dispose();
            throw;
        }
    }

    public override PreparedRun Prepare(Backend backend, Problem problem, int seed)
    {
        var p = Validated<TProblem>(problem);
        var data = new Data(p, FillKind.Real, seed);
        var plan = CreatePlan(backend, p, p.Direction.IsBackwardWeights() ? default : data.W, p.Direction.IsBackwardWeights() ? default : data.B);
        try
        {
            var device = backend as OpenClBackend;
            switch (p.Direction)
            {
                case Direction.ForwardInference or Direction.ForwardTraining:
                {
                    var y = new float[p.OutputLength];
                    if (device is null) return new PreparedRun(plan, () => plan.Forward(data.X, y), null);
                    var (x, yd) = (device.Upload(data.X), device.CreateTensor(p.OutputLength));
                    return new PreparedRun(plan, () => plan.Forward(data.X, y), () => { plan.Forward(x, yd); device.Finish(); }, new Disposables(x, yd));
                }
                case Direction.BackwardData:
                {
                    var dx = new float[p.InputLength];
                    if (device is null) return new PreparedRun(plan, () => plan.BackwardData(data.DiffY, dx, data.Y), null);
                    var (dy, y, dxd) = (device.Upload(data.DiffY), data.Y.Length > 0 ? device.Upload(data.Y) : null, device.CreateTensor(p.InputLength));
                    return new PreparedRun(plan, () => plan.BackwardData(data.DiffY, dx, data.Y), () => { plan.BackwardData(dy, dxd, y); device.Finish(); },
                        new Disposables(dy, y, dxd));
                }
                default:
                {
                    bool withBias = p.Direction == Direction.BackwardWeightsAndBias;
                    var (dw, db) = (new float[p.WeightsLength], new float[withBias ? p.BiasLength : 0]);
                    if (device is null) return new PreparedRun(plan, () => plan.BackwardWeights(data.X, data.DiffY, dw, db, data.Y), null);
                    var (x, dy, y) = (device.Upload(data.X), device.Upload(data.DiffY), data.Y.Length > 0 ? device.Upload(data.Y) : null);
                    var (dwd, dbd) = (device.CreateTensor(p.WeightsLength), withBias ? device.CreateTensor(p.BiasLength) : null);
                    return new PreparedRun(plan, () => plan.BackwardWeights(data.X, data.DiffY, dw, db, data.Y),
                        () => { plan.BackwardWeights(x, dy, dwd, dbd, y); device.Finish(); }, new Disposables(x, dy, y, dwd, dbd));
                }
            }
        }
        catch
        {
            plan.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Seeded data, in one order for every direction: x, weights, bias, then for the backward
    /// passes dL/dy and, with an activation, a forward output y = act(z) of random z.
    /// </summary>
    private sealed class Data
    {
        public Data(TProblem p, FillKind fill, int seed)
        {
            var random = new Random(seed);
            X = Fill.Values(p.InputLength, fill, random, 0.25f);
            W = Fill.Values(p.WeightsLength, fill, random, 0.125f);
            B = Fill.Values(p.BiasLength, fill, random, 0.5f);
            if (p.Direction.IsForward()) return;
            DiffY = Fill.Values(p.OutputLength, fill, random, 0.25f);
            if (p.Activation == Activation.None) return;
            Y = Fill.Values(p.OutputLength, fill, random, 0.25f);
            for (int i = 0; i < Y.Length; i++) Y[i] = (float)ReferenceKernels.Activate(p.Activation, p.ActivationAlpha, Y[i]);
        }

        public float[] X { get; }
        public float[] W { get; }
        public float[] B { get; }
        public float[] DiffY { get; } = [];
        public float[] Y { get; } = [];
    }
}
