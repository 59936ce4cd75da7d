using HpcCnn.OpenCl;
using HpcCnn.Problems;
using HpcCnn.Reference;
using HpcCnn.Verification;

namespace HpcCnn;

/// <summary>Elementwise activations (benchdnn's <c>--eltwise</c>): forward and backward data.</summary>
internal sealed class EltwiseOperation : Operation
{
    public override string Driver => "eltwise";

    public override IReadOnlyList<Direction> Directions { get; } = [Direction.ForwardInference, Direction.ForwardTraining, Direction.BackwardData];

    internal override IReadOnlyList<string> Options { get; } = ["alg", "alpha"];

    internal override Problem Parse(string descriptor, IReadOnlyDictionary<string, string> options) => EltwiseProblem.FromText(descriptor, options);

    public override double Flops(Problem problem) => 0;

    public override double Bytes(Problem problem)
    {
        var p = (EltwiseProblem)problem;
        return sizeof(float) * (double)p.Length * (p.Direction == Direction.BackwardData ? 3 : 2);
    }

    public override IReadOnlyList<CheckResult> Check(IReadOnlyList<Backend> backends, Problem problem, FillKind fill, int seed, Tolerance tolerance)
    {
        var p = Validated<EltwiseProblem>(problem);
        var random = new Random(seed);
        int n = (int)p.Length;
        var x = Fill.Values(n, fill, random, 0.25f);
        string text = p.ToString();
        // ReLU and LeakyReLU forward, and their backward passes, are one product each, correctly
        // rounded in float as the oracle's double result is; tanh and sigmoid are not exact.
        bool exact = fill.IsInteger() && p.Activation is Activation.None or Activation.Relu or Activation.LeakyRelu;
        var results = new List<CheckResult>();
        if (p.Direction == Direction.BackwardData)
        {
            var y = new float[n];
            for (int i = 0; i < n; i++) y[i] = (float)ReferenceKernels.Activate(p.Activation, p.Alpha, x[i]);
            var dy = Fill.Values(n, fill, random, 0.25f);
            var expected = new Expected("DIFF_SRC", new double[n], new double[n], exact);
            for (int i = 0; i < n; i++)
            {
                expected.Values[i] = ReferenceKernels.ActivateBackward(p.Activation, p.Alpha, y[i], dy[i]);
                expected.Magnitude[i] = Math.Abs(dy[i]);
            }
            foreach (var backend in backends)
            {
                using var plan = backend.CreateEltwisePlan(p);
                var dx = CrossCheck.OutputBuffer(n);
                plan.Backward(y, dy, CrossCheck.Body(dx));
                results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, expected, dx));
            }
            return results;
        }
        var forward = new Expected("DST", new double[n], new double[n], exact);
        for (int i = 0; i < n; i++)
        {
            forward.Values[i] = ReferenceKernels.Activate(p.Activation, p.Alpha, x[i]);
            forward.Magnitude[i] = Math.Abs(x[i]);
        }
        foreach (var backend in backends)
        {
            using var plan = backend.CreateEltwisePlan(p);
            var output = CrossCheck.OutputBuffer(n);
            plan.Forward(x, CrossCheck.Body(output));
            results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, forward, output));
        }
        return results;
    }

    internal override float[] Run(Backend backend, Problem problem, FillKind fill, int seed)
    {
        var p = Validated<EltwiseProblem>(problem);
        var random = new Random(seed);
        var x = Fill.Values(p.Length, fill, random, 0.25f);
        var output = new float[p.Length];
        using var plan = backend.CreateEltwisePlan(p);
        if (p.Direction == Direction.BackwardData) plan.Backward(x, Fill.Values(p.Length, fill, random, 0.25f), output);
        else plan.Forward(x, output);
        return output;
    }

    public override PreparedRun Prepare(Backend backend, Problem problem, int seed)
    {
        var p = Validated<EltwiseProblem>(problem);
        var random = new Random(seed);
        var x = Fill.Values(p.Length, FillKind.Real, random);
        var dy = Fill.Values(p.Direction == Direction.BackwardData ? p.Length : 0, FillKind.Real, random);
        var output = new float[p.Length];
        var plan = backend.CreateEltwisePlan(p);
        Action run = p.Direction == Direction.BackwardData ? () => plan.Backward(x, dy, output) : () => plan.Forward(x, output);
        if (backend is not OpenClBackend device) return new PreparedRun(plan, run, null);
        var (xd, dyd, od) = (device.Upload(x), device.Upload(dy), device.CreateTensor(p.Length));
        Action resident = p.Direction == Direction.BackwardData
            ? () => { plan.Backward(xd, dyd, od); device.Finish(); }
            : () => { plan.Forward(xd, od); device.Finish(); };
        return new PreparedRun(plan, run, resident, new Disposables(xd, dyd, od));
    }
}
