using HpcCnn.OpenCl;
using HpcCnn.Problems;
using HpcCnn.Reference;
using HpcCnn.Verification;

namespace HpcCnn;

/// <summary>Pooling (benchdnn's <c>--pool</c>): forward inference, forward training (max pooling's argmax), backward data.</summary>
internal sealed class PoolOperation : Operation
{
    public override string Driver => "pool";

    public override IReadOnlyList<Direction> Directions { get; } = [Direction.ForwardInference, Direction.ForwardTraining, Direction.BackwardData];

    internal override IReadOnlyList<string> Options { get; } = ["alg"];

    internal override Problem Parse(string descriptor, IReadOnlyDictionary<string, string> options) =>
        PoolProblem.FromDescriptor(Descriptor.Parse(descriptor, ConvProblem.Keys, options));

    public override double Flops(Problem problem) => 0;

    public override double Bytes(Problem problem)
    {
        var p = (PoolProblem)problem;
        return sizeof(float) * ((double)p.InputLength + p.OutputLength + p.WorkspaceLength);
    }

    public override IReadOnlyList<CheckResult> Check(IReadOnlyList<Backend> backends, Problem problem, FillKind fill, int seed, Tolerance tolerance)
    {
        var p = Validated<PoolProblem>(problem);
        var random = new Random(seed);
        var x = Fill.Values(p.InputLength, fill, random, 0.25f);
        string text = p.ToString();
        bool integer = fill.IsInteger();
        long planes = (long)p.Batch * p.Channels, outPlane = p.OutHeight * p.OutWidth;
        // The argmax of each window: the workspace forward training writes, and backward reads.
        var argmax = new int[p.WorkspaceLength];
        if (argmax.Length > 0)
            Parallel.For(0, planes, plane =>
            {
                for (long oh = 0; oh < p.OutHeight; oh++)
                    for (long ow = 0; ow < p.OutWidth; ow++)
                        argmax[plane * outPlane + oh * p.OutWidth + ow] = ReferenceKernels.PoolArgmax(p, x, plane, oh, ow);
            });
        var results = new List<CheckResult>();
        if (p.Direction == Direction.BackwardData)
        {
            var dy = Fill.Values(p.OutputLength, fill, random, 0.25f);
            // Max pooling only moves dL/dy; averages divide it by window sizes that are rarely powers of two.
            var expected = new Expected("DIFF_SRC", new double[p.InputLength], new double[p.InputLength], integer && p.Algorithm == PoolAlgorithm.Max);
            int inPlane = p.InHeight * p.InWidth;
            Parallel.For(0, planes, plane =>
                ReferenceKernels.PoolBackwardPlane(p, dy, argmax, plane, expected.Values.AsSpan((int)(plane * inPlane), inPlane),
                    expected.Magnitude.AsSpan((int)(plane * inPlane), inPlane)));
            foreach (var backend in backends)
            {
                using var plan = backend.CreatePoolPlan(p);
                var dx = CrossCheck.OutputBuffer(p.InputLength);
                plan.Backward(dy, CrossCheck.Body(dx), argmax);
                results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, expected, dx));
            }
            return results;
        }

        // Sums of integer fills are exact and one correctly rounded division follows, so averages are exact too.
        var output = new Expected("DST", new double[p.OutputLength], new double[p.OutputLength], integer);
        Parallel.For(0, planes, plane =>
        {
            for (long oh = 0; oh < p.OutHeight; oh++)
                for (long ow = 0; ow < p.OutWidth; ow++)
                {
                    long i = plane * outPlane + oh * p.OutWidth + ow;
                    output.Values[i] = ReferenceKernels.Pool(p, x, plane, oh, ow, out output.Magnitude[i]);
                }
        });
        var workspace = new Expected("WORKSPACE", argmax.Select(i => (double)i).ToArray(), new double[argmax.Length], BitExact: true);
        foreach (var backend in backends)
        {
            using var plan = backend.CreatePoolPlan(p);
            var y = CrossCheck.OutputBuffer(p.OutputLength);
            var indices = new int[p.WorkspaceLength];
            indices.AsSpan().Fill(-1);
            plan.Forward(x, CrossCheck.Body(y), indices);
            results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, output, y));
            if (argmax.Length == 0) continue;
            var asFloats = CrossCheck.OutputBuffer(indices.Length);
            for (int i = 0; i < indices.Length; i++) asFloats[i] = indices[i];
            results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, workspace, asFloats));
        }
        return results;
    }

    internal override float[] Run(Backend backend, Problem problem, FillKind fill, int seed)
    {
        var p = Validated<PoolProblem>(problem);
        var random = new Random(seed);
        var x = Fill.Values(p.InputLength, fill, random, 0.25f);
        var workspace = new int[p.WorkspaceLength];
        using var plan = backend.CreatePoolPlan(p);
        if (p.Direction == Direction.BackwardData)
        {
            using (var forward = backend.CreatePoolPlan(p with { Direction = Direction.ForwardTraining }))
                forward.Forward(x, new float[p.OutputLength], workspace);
            var dx = new float[p.InputLength];
            plan.Backward(Fill.Values(p.OutputLength, fill, random, 0.25f), dx, workspace);
            return dx;
        }
        var y = new float[p.OutputLength];
        plan.Forward(x, y, workspace);
        return [.. y, .. workspace.Select(i => (float)i)];
    }

    public override PreparedRun Prepare(Backend backend, Problem problem, int seed)
    {
        var p = Validated<PoolProblem>(problem);
        var random = new Random(seed);
        var x = Fill.Values(p.InputLength, FillKind.Real, random);
        var plan = backend.CreatePoolPlan(p);
        var device = backend as OpenClBackend;
        var workspace = new int[p.WorkspaceLength];
        var workspaceTensor = device is not null && workspace.Length > 0 ? device.CreateTensor(workspace.Length) : null;
        if (p.Direction == Direction.BackwardData)
        {
            // Backward runs after a forward pass that left a valid workspace.
            if (workspace.Length > 0)
            {
                using var forward = backend.CreatePoolPlan(p with { Direction = Direction.ForwardTraining });
                forward.Forward(x, new float[p.OutputLength], workspace);
                workspaceTensor?.Upload(System.Runtime.InteropServices.MemoryMarshal.Cast<int, float>(workspace));
            }
            var dy = Fill.Values(p.OutputLength, FillKind.Real, random);
            var dx = new float[p.InputLength];
            if (device is null) return new PreparedRun(plan, () => plan.Backward(dy, dx, workspace), null);
            var (dyd, dxd) = (device.Upload(dy), device.CreateTensor(p.InputLength));
            return new PreparedRun(plan, () => plan.Backward(dy, dx, workspace), () => { plan.Backward(dyd, dxd, workspaceTensor); device.Finish(); },
                new Disposables(dyd, dxd, workspaceTensor));
        }
        var y = new float[p.OutputLength];
        if (device is null) return new PreparedRun(plan, () => plan.Forward(x, y, workspace), null);
        var (xd, yd) = (device.Upload(x), device.CreateTensor(p.OutputLength));
        return new PreparedRun(plan, () => plan.Forward(x, y, workspace), () => { plan.Forward(xd, yd, workspaceTensor); device.Finish(); },
            new Disposables(xd, yd, workspaceTensor));
    }
}
