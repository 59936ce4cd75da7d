using HpcCnn.OpenCl;
using HpcCnn.Problems;
using HpcCnn.Reference;
using HpcCnn.Verification;

namespace HpcCnn;

/// <summary>Softmax fused with cross-entropy (benchdnn's <c>--softmax</c>): forward inference, forward training with the loss, backward data.</summary>
internal sealed class SoftmaxOperation : Operation
{
    /// <summary>Logits are drawn in [−Spread, Spread): probabilities from near 0 to near 1.</summary>
    private const float Spread = 4f;

    public override string Driver => "softmax";

    public override IReadOnlyList<Direction> Directions { get; } = [Direction.ForwardInference, Direction.ForwardTraining, Direction.BackwardData];

    internal override IReadOnlyList<string> Options { get; } = ["alg"];

    internal override Problem Parse(string descriptor, IReadOnlyDictionary<string, string> options) => SoftmaxProblem.FromText(descriptor, options);

    public override double Flops(Problem problem) => 0;

    public override double Bytes(Problem problem)
    {
        var p = (SoftmaxProblem)problem;
        return sizeof(float) * (2.0 * p.InputLength + (p.Direction == Direction.ForwardInference ? 0 : p.Batch));
    }

    /// <summary>The seeded logits (real for every fill but <see cref="FillKind.NonFinite"/>, which adds NaN and ±∞) and labels of a problem.</summary>
    private static (float[] Logits, int[] Labels) Data(SoftmaxProblem p, Random random, FillKind fill)
    {
        var logits = Fill.Values(p.InputLength, FillKind.Real, random, Spread);
        var labels = new int[p.Batch];
        for (int b = 0; b < labels.Length; b++) labels[b] = random.Next(p.Classes);
        if (fill == FillKind.NonFinite) Fill.SprinkleNonFinite(logits, random);
        return (logits, labels);
    }

    public override IReadOnlyList<CheckResult> Check(IReadOnlyList<Backend> backends, Problem problem, FillKind fill, int seed, Tolerance tolerance)
    {
        var p = Validated<SoftmaxProblem>(problem);
        var (logits, labels) = Data(p, new Random(seed), fill);
        int n = (int)p.InputLength, classes = p.Classes;
        string text = p.ToString();
        // The oracle in double; exp and log are never exact in float, so no output is compared bit for bit.
        var probabilities = new Expected("DST", new double[n], new double[n], BitExact: false);
        double loss = 0, lossMagnitude = 1;
        for (int b = 0; b < p.Batch; b++)
        {
            var row = logits.AsSpan(b * classes, classes);
            double logSumExp = ReferenceKernels.SoftmaxRow(row, probabilities.Values.AsSpan(b * classes, classes));
            loss += logSumExp - row[labels[b]];
            lossMagnitude += (Math.Abs(logSumExp) + Math.Abs(row[labels[b]])) / p.Batch;
        }
        probabilities.Magnitude.AsSpan().Fill(1);
        var results = new List<CheckResult>();
        if (p.Direction == Direction.BackwardData)
        {
            var p32 = probabilities.Values.Select(v => (float)v).ToArray();
            var gradient = new Expected("DIFF_SRC", new double[n], new double[n], BitExact: false);
            for (int i = 0; i < n; i++)
            {
                gradient.Values[i] = (p32[i] - (i % classes == labels[i / classes] ? 1.0 : 0.0)) / p.Batch;
                gradient.Magnitude[i] = 1.0 / p.Batch;
            }
            foreach (var backend in backends)
            {
                using var plan = backend.CreateSoftmaxPlan(p);
                var dx = CrossCheck.OutputBuffer(n);
                plan.Backward(p32, labels, CrossCheck.Body(dx));
                results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, gradient, dx));
            }
            return results;
        }
        var meanLoss = new Expected("LOSS", [loss / p.Batch], [lossMagnitude], BitExact: false);
        foreach (var backend in backends)
        {
            using var plan = backend.CreateSoftmaxPlan(p);
            var y = CrossCheck.OutputBuffer(n);
            if (p.Direction == Direction.ForwardInference)
            {
                plan.Forward(logits, CrossCheck.Body(y));
                results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, probabilities, y));
                continue;
            }
            var lossBuffer = CrossCheck.OutputBuffer(1);
            lossBuffer[0] = plan.Forward(logits, labels, CrossCheck.Body(y));
            results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, probabilities, y));
            results.Add(CrossCheck.Compare(text, backend, plan, fill, tolerance, meanLoss, lossBuffer));
        }
        return results;
    }

    internal override float[] Run(Backend backend, Problem problem, FillKind fill, int seed)
    {
        var p = Validated<SoftmaxProblem>(problem);
        var (logits, labels) = Data(p, new Random(seed), fill);
        var output = new float[p.InputLength];
        using var plan = backend.CreateSoftmaxPlan(p);
        switch (p.Direction)
        {
            case Direction.BackwardData:
                plan.Backward(logits, labels, output);
                return output;
            case Direction.ForwardTraining:
                float loss = plan.Forward(logits, labels, output);
                return [.. output, loss];
            default:
                plan.Forward(logits, output);
                return output;
        }
    }

    public override PreparedRun Prepare(Backend backend, Problem problem, int seed)
    {
        var p = Validated<SoftmaxProblem>(problem);
        var (logits, labels) = Data(p, new Random(seed), FillKind.Real);
        var output = new float[p.InputLength];
        var plan = backend.CreateSoftmaxPlan(p);
        Action run = p.Direction switch
        {
            Direction.BackwardData => () => plan.Backward(logits, labels, output),
            Direction.ForwardTraining => () => plan.Forward(logits, labels, output),
            _ => () => plan.Forward(logits, output),
        };
        if (backend is not OpenClBackend device) return new PreparedRun(plan, run, null);
        var (x, l, y, loss) = (device.Upload(logits), device.CreateTensor(p.Batch), device.CreateTensor(p.InputLength), device.CreateTensor(1));
        l.Upload(labels);
        Action resident = p.Direction switch
        {
            Direction.BackwardData => () => { plan.Backward(x, l, y); device.Finish(); },
            Direction.ForwardTraining => () => { plan.Forward(x, y, l, loss); device.Finish(); },
            _ => () => { plan.Forward(x, y); device.Finish(); },
        };
        return new PreparedRun(plan, run, resident, new Disposables(x, l, y, loss));
    }
}
