using HpcCnn.Reference;

namespace HpcCnn.Tests;

/// <summary>
/// The oracle's backward passes against central finite differences of its own forward passes in
/// double, on small problems of every operation and direction: for L = Σ g·y (g a fixed random
/// dL/dy), each element of dL/dx, dL/dw and dL/db must equal (L(v + h) − L(v − h)) / 2h. Inputs
/// are multiples of 2⁻⁸, so v ± h (h = 2⁻¹²) is exact in float; the forward passes run in double,
/// so the difference quotient is accurate to O(h²) of the (smooth or piecewise linear) layer.
/// The native and OpenCL backends are held to this oracle elsewhere.
/// </summary>
public class FiniteDifferenceTests
{
    private const float H = 1f / 4096;

    private static float[] Grid(long length, Random random, int range = 512) =>
        Enumerable.Range(0, (int)length).Select(_ => random.Next(-range, range) / 256f).ToArray();

    /// <summary>Every element of <paramref name="v"/>: the oracle's gradient against the difference quotient of <paramref name="loss"/>.</summary>
    private static void AssertGradient(string what, float[] v, Func<double> loss, ReadOnlySpan<float> gradient)
    {
        Assert.Equal(v.Length, gradient.Length);
        for (int j = 0; j < v.Length; j++)
        {
            float saved = v[j];
            v[j] = saved + H;
            double up = loss();
            v[j] = saved - H;
            double down = loss();
            v[j] = saved;
            double quotient = (up - down) / (2.0 * H);
            Assert.True(Math.Abs(quotient - gradient[j]) <= 2e-5 * (1 + Math.Abs(quotient)),
                $"{what}[{j}]: backward gives {gradient[j]}, the difference quotient {quotient}");
        }
    }

    public static TheoryData<string> ConvProblems => new()
    {
        "--attr-post-ops=tanh mb2ic3ih6oc4kh3ph1",
        "g2mb2ic4ih7iw8oc4kh3kw2sh2ph1pw0dh1",
        "--attr-post-ops=logistic mb1ic2ih8oc3oh4kh3sh2n\"asymmetric padding\"",
    };

    [Theory]
    [MemberData(nameof(ConvProblems))]
    public void Convolution_gradients_are_the_difference_quotients_of_its_forward(string text)
    {
        var p = ConvProblem.Parse(text);
        var random = new Random(1);
        var (x, w, b) = (Grid(p.InputLength, random), Grid(p.WeightsLength, random, 128), Grid(p.BiasLength, random));
        var g = Grid(p.OutputLength, random);
        int plane = (int)(p.OutHeight * p.OutWidth);
        double Loss()
        {
            var (sum, magnitude) = (new double[plane], new double[plane]);
            double total = 0;
            for (long n = 0; n < p.Batch; n++)
                for (long k = 0; k < p.OutChannels; k++)
                {
                    ReferenceKernels.ConvPlane(p, x, w, b, n, k, sum, magnitude);
                    for (int i = 0; i < plane; i++) total += g[(n * p.OutChannels + k) * plane + i] * sum[i];
                }
            return total;
        }
        var y = new float[p.OutputLength];
        using (var forward = Backend.Reference.CreateConvPlan(p, w, b)) forward.Forward(x, y);
        var output = p.Activation == Activation.None ? default : y.AsSpan();
        var dx = new float[p.InputLength];
        using (var data = Backend.Reference.CreateConvPlan(p with { Direction = Direction.BackwardData }, w, b)) data.BackwardData(g, dx, output);
        var (dw, db) = (new float[p.WeightsLength], new float[p.BiasLength]);
        using (var weights = Backend.Reference.CreateConvPlan(p with { Direction = Direction.BackwardWeightsAndBias }))
            weights.BackwardWeights(x, g, dw, db, output);
        AssertGradient("dL/dx", x, Loss, dx);
        AssertGradient("dL/dw", w, Loss, dw);
        AssertGradient("dL/db", b, Loss, db);
    }

    [Theory]
    [InlineData(Activation.None)]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Sigmoid)]
    public void Dense_gradients_are_the_difference_quotients_of_its_forward(Activation activation)
    {
        var p = new DenseProblem { Batch = 3, InChannels = 4, InHeight = 2, InWidth = 1, OutChannels = 5, Activation = activation };
        var random = new Random(2);
        var (x, w, b, g) = (Grid(p.InputLength, random), Grid(p.WeightsLength, random, 128), Grid(p.BiasLength, random), Grid(p.OutputLength, random));
        double Loss()
        {
            var (sum, magnitude) = (new double[p.OutChannels], new double[p.OutChannels]);
            double total = 0;
            for (long n = 0; n < p.Batch; n++)
            {
                ReferenceKernels.DenseForwardRow(p, x, w, b, n, sum, magnitude);
                for (int o = 0; o < p.OutChannels; o++) total += g[n * p.OutChannels + o] * sum[o];
            }
            return total;
        }
        var y = new float[p.OutputLength];
        using (var forward = Backend.Reference.CreateDensePlan(p, w, b)) forward.Forward(x, y);
        var output = activation == Activation.None ? default : y.AsSpan();
        var dx = new float[p.InputLength];
        using (var data = Backend.Reference.CreateDensePlan(p with { Direction = Direction.BackwardData }, w, b)) data.BackwardData(g, dx, output);
        var (dw, db) = (new float[p.WeightsLength], new float[p.BiasLength]);
        using (var weights = Backend.Reference.CreateDensePlan(p with { Direction = Direction.BackwardWeightsAndBias }))
            weights.BackwardWeights(x, g, dw, db, output);
        AssertGradient("dL/dx", x, Loss, dx);
        AssertGradient("dL/dw", w, Loss, dw);
        AssertGradient("dL/db", b, Loss, db);
    }

    [Theory]
    [InlineData("--alg=max mb2ic2ih6kh3sh2ph1")]
    [InlineData("--alg=max mb1ic1ih7iw5kh2kw3sh1sw2")]
    [InlineData("--alg=avg_np mb1ic2ih5kh3sh1ph1")]
    [InlineData("--alg=avg_p mb1ic2ih6kh3sh2ph1")]
    public void Pooling_gradient_is_the_difference_quotient_of_its_forward(string text)
    {
        var p = PoolProblem.Parse(text);
        var random = new Random(3);
        // Distinct inputs at least 2^-8 apart: no window's maximum changes within ±h.
        var x = Enumerable.Range(0, (int)p.InputLength).Select(i => (i - p.InputLength / 2f) / 256f).OrderBy(_ => random.Next()).ToArray();
        var g = Grid(p.OutputLength, random);
        long planes = (long)p.Batch * p.Channels, outPlane = p.OutHeight * p.OutWidth;
        double Loss()
        {
            double total = 0;
            for (long plane = 0; plane < planes; plane++)
                for (long oh = 0; oh < p.OutHeight; oh++)
                    for (long ow = 0; ow < p.OutWidth; ow++)
                        total += g[plane * outPlane + oh * p.OutWidth + ow] * ReferenceKernels.Pool(p, x, plane, oh, ow, out _);
            return total;
        }
        var workspace = new int[(p with { Direction = Direction.ForwardTraining }).WorkspaceLength];
        using (var forward = Backend.Reference.CreatePoolPlan(p with { Direction = Direction.ForwardTraining }))
            forward.Forward(x, new float[p.OutputLength], workspace);
        var dx = new float[p.InputLength];
        using (var backward = Backend.Reference.CreatePoolPlan(p with { Direction = Direction.BackwardData })) backward.Backward(g, dx, workspace);
        AssertGradient("dL/dx", x, Loss, dx);
    }

    [Theory]
    [InlineData(Activation.Tanh, 0f)]
    [InlineData(Activation.Sigmoid, 0f)]
    [InlineData(Activation.Relu, 0f)]
    [InlineData(Activation.LeakyRelu, 0.125f)]
    public void Activation_gradient_is_the_difference_quotient_of_its_forward(Activation activation, float alpha)
    {
        var random = new Random(4);
        // Away from 0, where ReLU's kink would sit between x - h and x + h.
        var x = Grid(200, random).Select(v => v == 0 ? 0.5f : v).ToArray();
        var g = Grid(200, random);
        double Loss() => x.Select((v, i) => g[i] * ReferenceKernels.Activate(activation, alpha, v)).Sum();
        var problem = new EltwiseProblem { Activation = activation, Alpha = alpha, Length = x.Length };
        var y = new float[x.Length];
        using (var forward = Backend.Reference.CreateEltwisePlan(problem)) forward.Forward(x, y);
        var dx = new float[x.Length];
        using (var backward = Backend.Reference.CreateEltwisePlan(problem with { Direction = Direction.BackwardData })) backward.Backward(y, g, dx);
        AssertGradient("dL/dx", x, Loss, dx);
    }

    [Fact]
    public void Softmax_cross_entropy_gradient_is_the_difference_quotient_of_its_loss_and_the_loss_its_direct_evaluation()
    {
        var p = new SoftmaxProblem { Batch = 4, Classes = 6, Direction = Direction.ForwardTraining };
        var random = new Random(5);
        var logits = Grid(p.InputLength, random);
        int[] labels = [0, 5, 2, 2];
        // The loss the oracle computes (log-sum-exp, maximum subtracted) and the textbook -log(e^x_label / Σ e^x_j), in double.
        double Loss()
        {
            var q = new double[p.Classes];
            double total = 0;
            for (int b = 0; b < p.Batch; b++) total += ReferenceKernels.SoftmaxRow(logits.AsSpan(b * p.Classes, p.Classes), q) - logits[b * p.Classes + labels[b]];
            return total / p.Batch;
        }
        double Direct()
        {
            double total = 0;
            for (int b = 0; b < p.Batch; b++)
            {
                var row = logits.AsSpan(b * p.Classes, p.Classes).ToArray();
                total += -Math.Log(Math.Exp(row[labels[b]]) / row.Sum(v => Math.Exp(v)));
            }
            return total / p.Batch;
        }
        Assert.Equal(Direct(), Loss(), 1e-12);
        var probabilities = new float[p.InputLength];
        float loss;
        using (var forward = Backend.Reference.CreateSoftmaxPlan(p)) loss = forward.Forward(logits, labels, probabilities);
        Assert.Equal(Direct(), loss, 1e-6);
        var dx = new float[p.InputLength];
        using (var backward = Backend.Reference.CreateSoftmaxPlan(p with { Direction = Direction.BackwardData })) backward.Backward(probabilities, labels, dx);
        AssertGradient("dL/dlogits", logits, Loss, dx);
    }
}
