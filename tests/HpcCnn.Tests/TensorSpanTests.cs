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
}
