using HpcCnn.Training;
using System.Numerics.Tensors;

namespace HpcCnn.Tests;

/// <summary>The TensorSpan overloads give the flat-span results and refuse tensors of the wrong shape or layout.</summary>
public class TensorSpanTests
{
    private static float[] Values(long length, int seed) => Fill.Values(length, FillKind.Real, new Random(seed));

    public static IEnumerable<object[]> Backends() => [[Backend.Reference], [TestBackends.Cpu.Value]];

    [Theory]
    [MemberData(nameof(Backends))]
    public void Conv_dense_and_pool_on_tensors_give_the_flat_results(Backend backend)
    {
        var conv = ConvProblem.Parse("mb2ic3ih8oc4kh3ph1");
        using var convPlan = backend.CreateConvPlan(conv, Values(conv.WeightsLength, 1));
        var x = Values(conv.InputLength, 2);
        var expected = new float[conv.OutputLength];
        convPlan.Forward(x, expected);
        var y = new float[conv.OutputLength];
        convPlan.Forward(new ReadOnlyTensorSpan<float>(x, [2, 3, 8, 8]), new TensorSpan<float>(y, [2, 4, 8, 8]));
        Assert.Equal(expected, y);

        var dense = new DenseProblem { Batch = 2, InChannels = 4, InHeight = 8, InWidth = 8, OutChannels = 5 };
        using var densePlan = backend.CreateDensePlan(dense, Values(dense.WeightsLength, 3));
        var expectedDense = new float[dense.OutputLength];
        densePlan.Forward(y, expectedDense);
        var flattened = new float[dense.OutputLength];
        densePlan.Forward(new ReadOnlyTensorSpan<float>(y, [2, 256]), new TensorSpan<float>(flattened, [2, 5]));
        Assert.Equal(expectedDense, flattened);
        var nchw = new float[dense.OutputLength];
        densePlan.Forward(new ReadOnlyTensorSpan<float>(y, [2, 4, 8, 8]), new TensorSpan<float>(nchw, [2, 5]));
        Assert.Equal(expectedDense, nchw);

        using var data = backend.CreateConvPlan(conv with { Direction = Direction.BackwardData }, Values(conv.WeightsLength, 1));
        var dx = new float[conv.InputLength];
        var expectedDx = new float[conv.InputLength];
        data.BackwardData(expected, expectedDx);
        data.BackwardData(new ReadOnlyTensorSpan<float>(expected, [2, 4, 8, 8]), new TensorSpan<float>(dx, [2, 3, 8, 8]));
        Assert.Equal(expectedDx, dx);

        using var grads = backend.CreateConvPlan(conv with { Direction = Direction.BackwardWeightsAndBias });
        float[] expectedDw = new float[conv.WeightsLength], expectedDb = new float[conv.OutChannels];
        grads.BackwardWeights(x, expected, expectedDw, expectedDb);
        float[] dw = new float[conv.WeightsLength], db = new float[conv.OutChannels];
        grads.BackwardWeights(new ReadOnlyTensorSpan<float>(x, [2, 3, 8, 8]), new ReadOnlyTensorSpan<float>(expected, [2, 4, 8, 8]),
            new TensorSpan<float>(dw, [4, 3, 3, 3]), new TensorSpan<float>(db, [4]));
        Assert.Equal(expectedDw, dw);
        Assert.Equal(expectedDb, db);

        var average = PoolProblem.Parse("--alg=avg_np mb2ic4ih8kh3sh2ph1") with { Direction = Direction.BackwardData };
        using var poolBackward = backend.CreatePoolPlan(average);
        var expectedPoolDx = new float[average.InputLength];
        var poolDy = Values(average.OutputLength, 4);
        poolBackward.Backward(poolDy, expectedPoolDx);
        var poolDx = new float[average.InputLength];
        poolBackward.Backward(new ReadOnlyTensorSpan<float>(poolDy, [2, 4, 4, 4]), new TensorSpan<float>(poolDx, [2, 4, 8, 8]));
        Assert.Equal(expectedPoolDx, poolDx);

        var pool = PoolProblem.Parse("--alg=max mb2ic4ih8kh2sh2");
        using var poolPlan = backend.CreatePoolPlan(pool);
        var expectedPool = new float[pool.OutputLength];
        poolPlan.Forward(y, expectedPool);
        var pooled = new float[pool.OutputLength];
        poolPlan.Forward(new ReadOnlyTensorSpan<float>(y, [2, 4, 8, 8]), new TensorSpan<float>(pooled, [2, 4, 4, 4]));
        Assert.Equal(expectedPool, pooled);
    }

    [Fact]
    public void Tensors_of_another_shape_or_layout_are_refused_by_name()
    {
        var conv = ConvProblem.Parse("mb2ic3ih8oc4kh3ph1");
        using var plan = TestBackends.Cpu.Value.CreateConvPlan(conv, new float[conv.WeightsLength]);
        var x = new float[conv.InputLength];
        var y = new float[conv.OutputLength];
        // The right number of elements in another shape (a flat span would have run).
        var shape = Assert.Throws<ArgumentException>(() => plan.Forward(new ReadOnlyTensorSpan<float>(x, [2, 3, 64]), new TensorSpan<float>(y, [2, 4, 8, 8])));
        Assert.Contains("input has shape [2, 3, 64]; the problem needs [2, 3, 8, 8]", shape.Message);
        var swapped = Assert.Throws<ArgumentException>(() => plan.Forward(new ReadOnlyTensorSpan<float>(x, [2, 3, 8, 8]), new TensorSpan<float>(y, [4, 2, 8, 8])));
        Assert.Equal("output", swapped.ParamName);
        // The right shape over a transposed (column-major) layout.
        var layout = Assert.Throws<ArgumentException>(() =>
            plan.Forward(new ReadOnlyTensorSpan<float>(x, [2, 3, 8, 8], [192, 64, 1, 8]), new TensorSpan<float>(y, [2, 4, 8, 8])));
        Assert.Contains("dense in row-major", layout.Message);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Weights_eltwise_softmax_dropout_and_updates_on_tensors_give_the_flat_results(Backend backend)
    {
        var conv = ConvProblem.Parse("mb2ic3ih8oc4kh3ph1");
        float[] w = Values(conv.WeightsLength, 1), b = Values(conv.OutChannels, 2), x = Values(conv.InputLength, 3);
        using var flatPlan = backend.CreateConvPlan(conv, w, b);
        using var tensorPlan = backend.CreateConvPlan(conv);
        tensorPlan.SetWeights(new ReadOnlyTensorSpan<float>(w, [4, 3, 3, 3]), new ReadOnlyTensorSpan<float>(b, [4]));
        float[] expected = new float[conv.OutputLength], actual = new float[conv.OutputLength];
        flatPlan.Forward(x, expected);
        tensorPlan.Forward(x, actual);
        Assert.Equal(expected, actual);

        var relu = new EltwiseProblem { Activation = Activation.Tanh, Length = x.Length };
        using var forward = backend.CreateEltwisePlan(relu);
        float[] flatY = new float[x.Length], tensorY = new float[x.Length];
        forward.Forward(x, flatY);
        forward.Forward(new ReadOnlyTensorSpan<float>(x, [2, 3, 8, 8]), new TensorSpan<float>(tensorY, [2, 3, 8, 8]));
        Assert.Equal(flatY, tensorY);
        using var backward = backend.CreateEltwisePlan(relu with { Direction = Direction.BackwardData });
        var dy = Values(x.Length, 4);
        float[] flatDx = new float[x.Length], tensorDx = new float[x.Length];
        backward.Backward(flatY, dy, flatDx);
        backward.Backward(new ReadOnlyTensorSpan<float>(flatY, [384]), new ReadOnlyTensorSpan<float>(dy, [384]), new TensorSpan<float>(tensorDx, [384]));
        Assert.Equal(flatDx, tensorDx);

        var softmax = new SoftmaxProblem { Batch = 4, Classes = 10, Direction = Direction.ForwardTraining };
        using var loss = backend.CreateSoftmaxPlan(softmax);
        var logits = Values(40, 5);
        int[] labels = [0, 9, 3, 3];
        float[] flatP = new float[40], tensorP = new float[40];
        float flatLoss = loss.Forward(logits, labels, flatP);
        float tensorLoss = loss.Forward(new ReadOnlyTensorSpan<float>(logits, [4, 10]), labels, new TensorSpan<float>(tensorP, [4, 10]));
        Assert.Equal(flatLoss, tensorLoss);
        Assert.Equal(flatP, tensorP);
        using var gradient = backend.CreateSoftmaxPlan(softmax with { Direction = Direction.BackwardData });
        float[] flatGradient = new float[40], tensorGradient = new float[40];
        gradient.Backward(flatP, labels, flatGradient);
        gradient.Backward(new ReadOnlyTensorSpan<float>(flatP, [4, 10]), labels, new TensorSpan<float>(tensorGradient, [4, 10]));
        Assert.Equal(flatGradient, tensorGradient);

        var dropout = new DropoutMask(0.25f, 7);
        float[] flatDropped = new float[x.Length], tensorDropped = new float[x.Length];
        backend.DropoutForward(dropout, 3, x, flatDropped);
        backend.DropoutForward(dropout, 3, new ReadOnlyTensorSpan<float>(x, [2, 3, 8, 8]), new TensorSpan<float>(tensorDropped, [2, 3, 8, 8]));
        Assert.Equal(flatDropped, tensorDropped);
        backend.DropoutBackward(dropout, 3, dy, flatDropped);
        backend.DropoutBackward(dropout, 3, new ReadOnlyTensorSpan<float>(dy, [2, 3, 8, 8]), new TensorSpan<float>(tensorDropped, [2, 3, 8, 8]));
        Assert.Equal(flatDropped, tensorDropped);

        var sgd = new Sgd { LearningRate = 0.1f, Momentum = 0.9f, WeightDecay = 0.01f };
        float[] flatW = (float[])w.Clone(), tensorW = (float[])w.Clone(), flatVelocity = new float[w.Length], tensorVelocity = new float[w.Length];
        var grad = Values(w.Length, 6);
        backend.Update(sgd, flatW, grad, flatVelocity);
        backend.Update(sgd, new TensorSpan<float>(tensorW, [4, 3, 3, 3]), new ReadOnlyTensorSpan<float>(grad, [4, 3, 3, 3]), new TensorSpan<float>(tensorVelocity, [4, 3, 3, 3]));
        Assert.Equal(flatW, tensorW);
        Assert.Equal(flatVelocity, tensorVelocity);
        var adam = new Adam { LearningRate = 0.01f };
        float[] m1 = new float[w.Length], v1 = new float[w.Length], m2 = new float[w.Length], v2 = new float[w.Length];
        backend.Update(adam, 1, flatW, grad, m1, v1);
        backend.Update(adam, 1, new TensorSpan<float>(tensorW, [108]), new ReadOnlyTensorSpan<float>(grad, [108]), new TensorSpan<float>(m2, [108]),
            new TensorSpan<float>(v2, [108]));
        Assert.Equal(flatW, tensorW);
        Assert.Equal(m1, m2);
        Assert.Equal(v1, v2);
    }

    [Fact]
    public void Mismatched_shapes_in_the_other_calls_are_refused_by_name()
    {
        var cpu = TestBackends.Cpu.Value;
        var conv = ConvProblem.Parse("mb2ic3ih8oc4kh3ph1");
        using var plan = cpu.CreateConvPlan(conv);
        var weights = Assert.Throws<ArgumentException>(() => plan.SetWeights(new ReadOnlyTensorSpan<float>(new float[108], [3, 4, 3, 3])));
        Assert.Contains("weights has shape [3, 4, 3, 3]; the problem needs [4, 3, 3, 3]", weights.Message);

        using var eltwise = cpu.CreateEltwisePlan(new EltwiseProblem { Activation = Activation.Relu, Length = 12 });
        var output = Assert.Throws<ArgumentException>(() => eltwise.Forward(new ReadOnlyTensorSpan<float>(new float[12], [3, 4]), new TensorSpan<float>(new float[12], [4, 3])));
        Assert.Contains("output has shape [4, 3]; input has [3, 4]", output.Message);
        var count = Assert.Throws<ArgumentException>(() => eltwise.Forward(new ReadOnlyTensorSpan<float>(new float[16], [4, 4]), new TensorSpan<float>(new float[16], [4, 4])));
        Assert.Contains("input holds 16 elements; the problem has 12", count.Message);

        using var softmax = cpu.CreateSoftmaxPlan(new SoftmaxProblem { Batch = 2, Classes = 5 });
        var logits = Assert.Throws<ArgumentException>(() => softmax.Forward(new ReadOnlyTensorSpan<float>(new float[10], [5, 2]), new TensorSpan<float>(new float[10], [2, 5])));
        Assert.Equal("logits", logits.ParamName);

        var gradients = Assert.Throws<ArgumentException>(() => cpu.Update(new Sgd { LearningRate = 0.1f }, new TensorSpan<float>(new float[6], [2, 3]),
            new ReadOnlyTensorSpan<float>(new float[6], [6])));
        Assert.Contains("gradients has shape [6]; weights have [2, 3]", gradients.Message);
    }
}
