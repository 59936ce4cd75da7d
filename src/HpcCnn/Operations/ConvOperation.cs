using HpcCnn.OpenCl;
using HpcCnn.Problems;
using HpcCnn.Reference;
using HpcCnn.Verification;

namespace HpcCnn;

/// <summary>Convolution (benchdnn's <c>--conv</c>): forward, backward data, backward weights (and bias).</summary>
internal sealed class ConvOperation : Operation
{
    public override string Driver => "conv";

    public override IReadOnlyList<Direction> Directions { get; } =
        [Direction.ForwardInference, Direction.ForwardTraining, Direction.BackwardData, Direction.BackwardWeights, Direction.BackwardWeightsAndBias];

    internal override IReadOnlyList<string> Options { get; } = ["attr-post-ops"];

    internal override Problem Parse(string descriptor, IReadOnlyDictionary<string, string> options) =>
        ConvProblem.FromDescriptor(Descriptor.Parse(descriptor, ConvProblem.Keys, options));

    /// <summary>2·N·K·Ho·Wo·(C/G)·R·S in every direction: each is one multiply-add per tap and output.</summary>
    public override double Flops(Problem problem) => ((ConvProblem)problem).Flops;

    public override double Bytes(Problem problem)
    {
        var p = (ConvProblem)problem;
        double activations = p.InputLength + p.OutputLength;
        return sizeof(float) * (p.Direction.IsBackwardWeights() ? activations + p.WeightsLength : activations);
    }

    public override IReadOnlyList<CheckResult> Check(IReadOnlyList<Backend> backends, Problem problem, FillKind fill, int seed, Tolerance tolerance)
    {
        var p = Validated<ConvProblem>(problem);
        var data = new Data(p, fill, seed);
        string text = p.ToString();
        var results = new List<CheckResult>();
        if (p.Direction.IsForward())
        {
            // The sum is exact on integer fills and ReLU or a slope is one correctly rounded product; tanh and sigmoid are not exact.
            bool exactForward = fill == FillKind.SmallIntegers && p.Activation is Activation.None or Activation.Relu or Activation.LeakyRelu;
            var expected = new Expected("DST", new double[p.OutputLength], new double[p.OutputLength], exactForward);
            int plane = (int)(p.OutHeight * p.OutWidth);
            Parallel.For(0, (long)p.Batch * p.OutChannels, i =>
                ReferenceKernels.ConvPlane(p, data.X, data.W, data.B, i / p.OutChannels, i % p.OutChannels,
                    expected.Values.AsSpan((int)(i * plane), plane), expected.Magnitude.AsSpan((int)(i * plane), plane)));
            foreach (var backend in backends)
            {
                using var plan = backend.CreateConvPlan(p, data.W, data.B);
                var y = CrossCheck.OutputBuffer(p.OutputLength);
                plan.Forward(data.X, CrossCheck.Body(y));
                results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, expected, y));
            }
            return results;
        }

        // Backward: dL/dz = act'(y)·dL/dy is exact on integer fills unless a slope that is not a power of two enters first.
        bool exact = fill == FillKind.SmallIntegers && p.Activation switch
        {
            Activation.None or Activation.Relu => true,
            Activation.LeakyRelu => CrossCheck.IsPowerOfTwoOrZero(p.ActivationAlpha),
            _ => false,
        };
        var dz = ReferenceKernels.PreActivationGradient(p, data.DiffY, data.Y);
        if (p.Direction == Direction.BackwardData)
        {
            var expected = new Expected("DIFF_SRC", new double[p.InputLength], new double[p.InputLength], exact);
            int plane = p.InHeight * p.InWidth;
            Parallel.For(0, (long)p.Batch * p.InChannels, i =>
                ReferenceKernels.ConvBackwardDataPlane(p, dz, data.W, i / p.InChannels, i % p.InChannels,
                    expected.Values.AsSpan((int)(i * plane), plane), expected.Magnitude.AsSpan((int)(i * plane), plane)));
            foreach (var backend in backends)
            {
                using var plan = backend.CreateConvPlan(p, data.W, data.B);
                var dx = CrossCheck.OutputBuffer(p.InputLength);
                plan.BackwardData(data.DiffY, CrossCheck.Body(dx), data.Y);
                results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, expected, dx));
            }
            return results;
        }

        bool withBias = p.Direction == Direction.BackwardWeightsAndBias;
        int perChannel = (int)(p.WeightsLength / p.OutChannels);
        var weights = new Expected("DIFF_WEIGHTS", new double[p.WeightsLength], new double[p.WeightsLength], exact);
        var bias = new Expected("DIFF_BIAS", new double[p.OutChannels], new double[p.OutChannels], exact);
        Parallel.For(0, p.OutChannels, k =>
        {
            ReferenceKernels.ConvBackwardWeightsChannel(p, data.X, dz, k, weights.Values.AsSpan(k * perChannel, perChannel),
                weights.Magnitude.AsSpan(k * perChannel, perChannel), out bias.Values[k], out bias.Magnitude[k]);
        });
        foreach (var backend in backends)
        {
            using var plan = backend.CreateConvPlan(p);
            var dw = CrossCheck.OutputBuffer(p.WeightsLength);
            var db = CrossCheck.OutputBuffer(withBias ? p.OutChannels : 0);
            plan.BackwardWeights(data.X, data.DiffY, CrossCheck.Body(dw), CrossCheck.Body(db), data.Y);
            results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, weights, dw));
            if (withBias) results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, bias, db));
        }
        return results;
    }

    public override PreparedRun Prepare(Backend backend, Problem problem, int seed)
    {
        var p = Validated<ConvProblem>(problem);
        var data = new Data(p, FillKind.Real, seed);
        var plan = backend.CreateConvPlan(p, p.Direction.IsBackwardWeights() ? default : data.W, p.Direction.IsBackwardWeights() ? default : data.B);
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
                    var (dw, db) = (new float[p.WeightsLength], new float[withBias ? p.OutChannels : 0]);
                    if (device is null) return new PreparedRun(plan, () => plan.BackwardWeights(data.X, data.DiffY, dw, db, data.Y), null);
                    var (x, dy, y) = (device.Upload(data.X), device.Upload(data.DiffY), data.Y.Length > 0 ? device.Upload(data.Y) : null);
                    var (dwd, dbd) = (device.CreateTensor(p.WeightsLength), withBias ? device.CreateTensor(p.OutChannels) : null);
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
        public Data(ConvProblem p, FillKind fill, int seed)
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
