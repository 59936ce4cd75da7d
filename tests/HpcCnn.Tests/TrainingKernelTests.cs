using HpcCnn.Cpu;
using HpcCnn.OpenCl;
using HpcCnn.Training;
using HpcCnn.Verification;

namespace HpcCnn.Tests;

/// <summary>
/// Dropout, DropConnect and the optimizers on every backend against the oracle, bit for bit (they
/// are specified to the operation), at any thread count, on spans and on device buffers; Philox
/// against Random123's published answers; softmax cross-entropy on logits of 10⁴.
/// </summary>
public class TrainingKernelTests
{
    private static IReadOnlyList<Backend> Backends() => TestBackends.Everything().Backends;

    private static float[] Values(int length, int seed, float offset = 0f)
    {
        var values = Fill.Values(length, FillKind.Real, new Random(seed));
        for (int i = 0; i < length; i++) values[i] += offset;
        return values;
    }

    [Fact]
    public void Philox_gives_the_random123_known_answers()
    {
        Assert.Equal((0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u), Philox.Generate((0, 0, 0, 0), (0, 0)));
        Assert.Equal((0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu),
            Philox.Generate((0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff)));
        Assert.Equal((0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u),
            Philox.Generate((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0)));
    }

    [Theory]
    [InlineData(0, 0.5f)]
    [InlineData(1, 0.5f)]
    [InlineData(7, 0.25f)]
    [InlineData(70001, 0.1f)]
    [InlineData(200003, 0.9f)]
    [InlineData(1000, 0f)]
    public void Dropout_draws_the_same_mask_on_every_backend(int length, float rate)
    {
        var dropout = new DropoutMask(rate, Seed: 0xfeedface12345678UL);
        var x = Values(length, length, offset: 3f); // never 0, so a zero output means dropped
        var expected = new float[length];
        Backend.Reference.DropoutForward(dropout, 41, x, expected);
        for (int i = 0; i < length; i++) Assert.Equal(dropout.Keeps(41, i) ? x[i] * dropout.Scale : 0f, expected[i]);
        if (length > 10000) Assert.InRange(expected.Count(v => v != 0f) / (double)length, 1 - rate - 0.01, 1 - rate + 0.01);
        foreach (var backend in Backends())
        {
            var y = new float[length];
            backend.DropoutForward(dropout, 41, x, y);
            Assert.True(expected.AsSpan().SequenceEqual(y), $"{backend}: dropout forward differs from the oracle");
            var dx = new float[length];
            backend.DropoutBackward(dropout, 41, x, dx);
            Assert.True(expected.AsSpan().SequenceEqual(dx), $"{backend}: dropout backward applies another mask");
            var inPlace = (float[])x.Clone();
            backend.DropoutForward(dropout, 41, inPlace, inPlace);
            Assert.True(expected.AsSpan().SequenceEqual(inPlace), $"{backend}: dropout in place differs");
            using var xd = backend.Upload(x);
            using var yd = backend.Allocate(length);
            backend.DropoutForward(dropout, 41, xd, yd);
            Assert.True(expected.AsSpan().SequenceEqual(yd.ToArray()), $"{backend}: dropout on device buffers differs");
        }
    }

    [Fact]
    public void Dropout_mask_changes_with_the_step_and_not_with_the_thread_count()
    {
        var dropout = new DropoutMask(0.5f, Seed: 3);
        var x = Values(300001, 1, offset: 3f);
        float[] Run(int threads, long step)
        {
            var y = new float[x.Length];
            new CpuBackend(new CpuBackendOptions { Threads = threads }).DropoutForward(dropout, step, x, y);
            return y;
        }
        var one = Run(1, 9);
        Assert.True(one.AsSpan().SequenceEqual(Run(2, 9)));
        Assert.True(one.AsSpan().SequenceEqual(Run(3, 9)));
        Assert.False(one.AsSpan().SequenceEqual(Run(1, 10)), "step 10 drew step 9's mask");
    }

    [Fact]
    public void DropConnect_masks_a_dense_layers_weights_and_their_gradient_alike_everywhere()
    {
        var problem = new Problems.DenseProblem { Batch = 8, InChannels = 30, OutChannels = 12, Direction = Problems.Direction.ForwardTraining };
        var weights = Values((int)problem.WeightsLength, 2);
        var x = Values((int)problem.InputLength, 3);
        var dropConnect = new DropoutMask(0.4f, Seed: 77);
        float[]? first = null, firstGradient = null;
        foreach (var backend in Backends().Prepend(Backend.Reference))
        {
            var masked = new float[weights.Length];
            backend.DropoutForward(dropConnect, 5, weights, masked);
            for (int i = 0; i < weights.Length; i++) Assert.Equal(dropConnect.Keeps(5, i) ? weights[i] * dropConnect.Scale : 0f, masked[i]);
            using var forward = backend.CreateDensePlan(problem, masked);
            var y = new float[problem.OutputLength];
            forward.Forward(x, y);
            using var weightsGradient = backend.CreateDensePlan(problem with { Direction = Problems.Direction.BackwardWeights });
            var dW = new float[weights.Length];
            weightsGradient.BackwardWeights(x, y, dW);
            backend.DropoutBackward(dropConnect, 5, dW, dW); // the gradient reaches only the kept weights
            for (int i = 0; i < dW.Length; i++)
                if (!dropConnect.Keeps(5, i)) Assert.Equal(0f, dW[i]);
            first ??= y;
            firstGradient ??= dW;
            // Integer-free real data: the layer itself is compared by the tolerance rule elsewhere; the masks must agree exactly.
            for (int i = 0; i < dW.Length; i++) Assert.Equal(firstGradient[i] == 0f, dW[i] == 0f);
        }
    }

    public static IEnumerable<object[]> OptimizerCases() =>
    [
        [new Sgd { LearningRate = 0.1f }],
        [new Sgd { LearningRate = 0.05f, Momentum = 0.9f }],
        [new Sgd { LearningRate = 0.05f, Momentum = 0.9f, WeightDecay = 5e-4f, Nesterov = true }],
        [new Adam()],
        [new Adam { LearningRate = 0.01f, Beta1 = 0.8f, Beta2 = 0.99f, Epsilon = 1e-6f, WeightDecay = 1e-3f }],
    ];

    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void Optimizer_steps_match_the_oracle_bit_for_bit(object optimizer)
    {
        foreach (int length in new[] { 0, 1, 17, 100003 })
        {
            var expected = RunOptimizer(Backend.Reference, optimizer, length, deviceBuffers: false);
            foreach (var backend in Backends())
                foreach (bool deviceBuffers in new[] { false, true })
                {
                    var actual = RunOptimizer(backend, optimizer, length, deviceBuffers);
                    // Adam divides and takes square roots: exact only where the device rounds them correctly, as the oracle does.
                    bool exact = optimizer is Sgd || backend is not OpenClBackend device || device.DeviceRuntime.CorrectlyRoundedDivideSqrt;
                    for (int i = 0; i < expected.Length; i++)
                        if (exact) Assert.True(expected[i] == actual[i], $"{backend} {optimizer} length {length}: element {i} is {actual[i]}, the oracle {expected[i]}");
                        else Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6f * (1 + Math.Abs(expected[i])), $"{backend} {optimizer}: element {i}");
                }
        }
    }

    /// <summary>Three steps from the same start; the weights and every state buffer, concatenated.</summary>
    private static float[] RunOptimizer(Backend backend, object optimizer, int length, bool deviceBuffers)
    {
        var w = Values(length, 11);
        var state = new[] { new float[length], new float[length] };
        for (int step = 1; step <= 3; step++)
        {
            var g = Values(length, 100 + step);
            if (!deviceBuffers)
            {
                if (optimizer is Sgd sgd) backend.Update(sgd, w, g, sgd.NeedsVelocity ? state[0] : default);
                else backend.Update((Adam)optimizer, step, w, g, state[0], state[1]);
                continue;
            }
            using var wd = backend.Upload(w);
            using var gd = backend.Upload(g);
            using var m = backend.Upload(state[0]);
            using var v = backend.Upload(state[1]);
            if (optimizer is Sgd s) backend.Update(s, wd, gd, s.NeedsVelocity ? m : null);
            else backend.Update((Adam)optimizer, step, wd, gd, m, v);
            wd.Download(w);
            m.Download(state[0]);
            v.Download(state[1]);
        }
        return [.. w, .. state[0], .. state[1]];
    }

    [Fact]
    public void Optimizers_give_the_same_bits_for_any_thread_count()
    {
        var adam = new Adam { WeightDecay = 0.01f };
        float[]? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var result = RunOptimizer(new CpuBackend(new CpuBackendOptions { Threads = threads }), adam, 200001, deviceBuffers: false);
            first ??= result;
            Assert.True(first.AsSpan().SequenceEqual(result), $"{threads} threads differ from 1");
        }
    }

    [Fact]
    public void Bad_training_arguments_are_refused_with_the_rule()
    {
        var cpu = TestBackends.Cpu.Value;
        var x = new float[8];
        Assert.Contains("dropout rate", Assert.Throws<ArgumentOutOfRangeException>(() => cpu.DropoutForward(new DropoutMask(1f, 0), 0, x, new float[8])).Message);
        Assert.Contains("must be the same span", Assert.Throws<ArgumentException>(() => cpu.DropoutForward(new DropoutMask(0.5f, 0), 0, x.AsSpan(0, 4), x.AsSpan(1))).Message);
        Assert.Contains("step counts from 1", Assert.Throws<ArgumentOutOfRangeException>(() => cpu.Update(new Adam(), 0, x, new float[8], new float[8], new float[8])).Message);
        Assert.Contains("Nesterov", Assert.Throws<ArgumentOutOfRangeException>(() => cpu.Update(new Sgd { Nesterov = true }, x, new float[8])).Message);
        Assert.Contains("velocity", Assert.Throws<ArgumentException>(() => cpu.Update(new Sgd { Momentum = 0.9f }, x, new float[8], new float[3])).Message);
        Assert.Contains("must not overlap", Assert.Throws<ArgumentException>(() => cpu.Update(new Sgd(), x, x)).Message);
    }

    [Fact]
    public void Softmax_cross_entropy_holds_for_logits_of_ten_thousand()
    {
        var problem = new Problems.SoftmaxProblem { Batch = 3, Classes = 4, Direction = Problems.Direction.ForwardTraining };
        float[] logits = [1e4f, 0f, -1e4f, 5f, /* */ -1e4f, 1e4f, 1e4f, 0f, /* */ 0f, 0f, 0f, 0f];
        int[] labels = [0, 3, 2];
        // Rows: a confident right answer (loss 0), a confident wrong one (loss 10^4 + log 2), uniform (log 4).
        double expected = (0 + (1e4 + Math.Log(2)) + Math.Log(4)) / 3;
        foreach (var backend in Backends().Prepend(Backend.Reference))
        {
            using var plan = backend.CreateSoftmaxPlan(problem);
            var p = new float[12];
            float loss = plan.Forward(logits, labels, p);
            Assert.True(Math.Abs(loss - expected) <= 1e-3, $"{backend}: loss {loss}, expected {expected}");
            Assert.All(p, v => Assert.True(float.IsFinite(v) && v >= 0 && v <= 1, $"{backend}: probability {v}"));
            Assert.Equal(0.5f, p[5], 1e-6f);
            using var backward = backend.CreateSoftmaxPlan(problem with { Direction = Problems.Direction.BackwardData });
            var dx = new float[12];
            backward.Backward(p, labels, dx);
            Assert.Equal((0.5f - 0f) / 3, dx[5], 1e-6f);
            Assert.Equal((0f - 1f) / 3, dx[7], 1e-6f);
            Assert.Contains("labels[1] = 4 is not a class", Assert.Throws<ArgumentOutOfRangeException>(() => plan.Forward(logits, [0, 4, 1], p)).Message);
        }
    }

    /// <summary>The README's training snippet, as written there, runs (and the step moves the weights).</summary>
    [Fact]
    public void Readme_training_example_runs()
    {
        using var cpu = new CpuBackend(new CpuBackendOptions { Threads = 2 });
        var layer = Problems.ConvProblem.Parse("mb64ic6ih14oc16kh5") with { Activation = Activation.Tanh };
        var (weights, bias) = (Values((int)layer.WeightsLength, 1), Values(layer.BiasLength, 2));
        var (x, dy) = (Values((int)layer.InputLength, 3), Values((int)layer.OutputLength, 4));
        var (y, dx, dw, db, velocity) = (new float[layer.OutputLength], new float[layer.InputLength], new float[layer.WeightsLength],
            new float[layer.BiasLength], new float[layer.WeightsLength]);
        using var forward = cpu.CreateConvPlan(layer with { Direction = Direction.ForwardTraining }, weights, bias);
        using var data = cpu.CreateConvPlan(layer with { Direction = Direction.BackwardData }, weights, bias);
        using var grads = cpu.CreateConvPlan(layer with { Direction = Direction.BackwardWeightsAndBias });
        var before = (float[])weights.Clone();
        forward.Forward(x, y);
        data.BackwardData(dy, dx, output: y);
        grads.BackwardWeights(x, dy, dw, db, output: y);
        cpu.Update(new Sgd { LearningRate = 0.05f, Momentum = 0.9f }, weights, dw, velocity);
        forward.SetWeights(weights, bias);
        Assert.False(before.AsSpan().SequenceEqual(weights));

        var loss = new Problems.SoftmaxProblem { Batch = 64, Classes = 10, Direction = Direction.ForwardTraining };
        var (logits, labels) = (Values(640, 5), Enumerable.Range(0, 64).Select(i => i % 10).ToArray());
        var (probabilities, dlogits) = (new float[640], new float[640]);
        using var softmax = cpu.CreateSoftmaxPlan(loss);
        float mean = softmax.Forward(logits, labels, probabilities);
        using var softmaxBackward = cpu.CreateSoftmaxPlan(loss with { Direction = Direction.BackwardData });
        softmaxBackward.Backward(probabilities, labels, dlogits);
        Assert.InRange(mean, 0.5f, 10f);

        var dropout = new DropoutMask(Rate: 0.5f, Seed: 42);
        long step = 1;
        var (activations, gradient, m, v) = (Values(1000, 6), Values(1000, 7), new float[weights.Length], new float[weights.Length]);
        cpu.DropoutForward(dropout, step, activations, activations);
        cpu.DropoutBackward(dropout, step, gradient, gradient);
        cpu.Update(new Adam { LearningRate = 1e-3f }, step, weights, dw, m, v);
        Assert.Equal(activations.Select(a => a == 0), gradient.Select(g => g == 0));
    }
}
