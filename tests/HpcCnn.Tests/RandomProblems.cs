namespace HpcCnn.Tests;

/// <summary>
/// Seeded random problems covering what hand-picked cases miss: stride 1–4, padding 0–3,
/// dilation 1–3, groups (depthwise included), channel counts that are not multiples of 8 or 16,
/// 1×1 images, batch 1 and odd batches. Sizes stay small so the oracle is quick.
/// </summary>
internal static class RandomProblems
{
    public const int Count = 500;

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(0, Count).Select(i => new object[] { i });

    /// <summary>Random problems per backward (operation, direction).</summary>
    public const int BackwardCount = 300;

    public static IEnumerable<object[]> BackwardSeeds() => Enumerable.Range(0, BackwardCount).Select(i => new object[] { i });

    /// <summary>
    /// A dense layer: batch 1-9, 1-70 input features (sometimes as channels of a small image),
    /// 1-40 outputs: partial micro-panels on both sides of every GEMM path.
    /// </summary>
    public static DenseProblem Dense(int seed)
    {
        var random = new Random(5000 + seed);
        int ih = random.Next(3) == 0 ? random.Next(1, 5) : 1;
        var activation = (Activation)random.Next(5);
        return new DenseProblem
        {
            Batch = random.Next(1, 10),
            InChannels = random.Next(1, 71),
            InHeight = ih,
            InWidth = ih == 1 ? 1 : random.Next(1, 5),
            OutChannels = random.Next(1, 41),
            Activation = activation,
            ActivationAlpha = activation == Activation.LeakyRelu ? 1f / (1 << random.Next(1, 5)) : 0f,
        };
    }

    /// <summary>A random batch and class count: mostly small, sometimes wide rows (ImageNet's 1000 classes) or a large batch that runs on several threads.</summary>
    public static SoftmaxProblem Softmax(int seed)
    {
        var random = new Random(7000 + seed);
        return random.Next(10) switch
        {
            0 => new SoftmaxProblem { Batch = random.Next(1, 5), Classes = random.Next(500, 1200) },
            1 => new SoftmaxProblem { Batch = random.Next(2000, 9000), Classes = random.Next(9, 40) },
            _ => new SoftmaxProblem { Batch = random.Next(1, 130), Classes = random.Next(1, 40) },
        };
    }

    /// <summary>
    /// A random activation, slope and length: mostly short, sometimes long enough for the native
    /// code to use several threads. LeakyReLU slopes are non-negative, as the backward pass needs.
    /// </summary>
    public static EltwiseProblem Eltwise(int seed)
    {
        var random = new Random(3000 + seed);
        var activation = (Activation)random.Next(5);
        float alpha = activation == Activation.LeakyRelu ? (float)random.NextDouble() : 0f;
        int length = random.Next(10) == 0 ? random.Next(65536, 200000) : random.Next(0, 300);
        return new EltwiseProblem { Activation = activation, Alpha = alpha, Length = length };
    }

    public static ConvProblem Conv(int seed)
    {
        var random = new Random(1000 + seed);
        while (true)
        {
            int groups = random.Next(4) switch { 0 => 1, 1 => 2, 2 => 3, _ => random.Next(1, 9) };
            bool depthwise = random.Next(4) == 0;
            int inPerGroup = depthwise ? 1 : random.Next(1, 8);
            int outPerGroup = depthwise ? random.Next(1, 3) : random.Next(1, 8);
            var problem = WithRandomWindow(random, maxImage: 14, maxStride: 4, maxDilation: 3, () => new ConvProblem
            {
                Batch = random.Next(3) == 0 ? 1 : random.Next(1, 6),
                Groups = groups,
                InChannels = groups * inPerGroup,
                OutChannels = groups * outPerGroup,
            });
            if (problem.OutHeight > 0 && problem.OutWidth > 0) return problem;
        }
    }

    public const int WideCount = 80;

    public static IEnumerable<object[]> WideSeeds() => Enumerable.Range(0, WideCount).Select(i => new object[] { i });

    /// <summary>
    /// Plain (one-group) convolutions with 3 to 80 channels in and 32 to 96 out, the shapes the
    /// direct AVX-512 kernels take: whole and partial 16-channel blocks, channel counts too small
    /// to block, one to two 64-channel output groups; strides 1-3, padding 0-3, dilation 1-2.
    /// </summary>
    public static ConvProblem WideConv(int seed)
    {
        var random = new Random(3000 + seed);
        int[] inChannels = [3, 8, 12, 16, 20, 24, 30, 32, 45, 48, 61, 64, 80];
        while (true)
        {
            var problem = WithRandomWindow(random, maxImage: 12, maxStride: 3, maxDilation: 2, () => new ConvProblem
            {
                Batch = random.Next(1, 4),
                InChannels = inChannels[random.Next(inChannels.Length)],
                OutChannels = random.Next(32, 97),
            });
            if (problem.OutHeight > 0 && problem.OutWidth > 0) return problem;
        }
    }

    public static PoolProblem Pool(int seed)
    {
        var random = new Random(2000 + seed);
        while (true)
        {
            int kh = random.Next(1, 6), kw = random.Next(2) == 0 ? kh : random.Next(1, 6);
            int ih = OneOrMore(random, 16);
            // Each padding independently below the kernel; half the time both sides alike.
            bool symmetric = random.Next(2) == 0;
            int top = random.Next(0, kh), left = random.Next(0, kw);
            var problem = new PoolProblem
            {
                Algorithm = (PoolAlgorithm)random.Next(3),
                Batch = random.Next(1, 5),
                Channels = random.Next(1, 20),
                InHeight = ih,
                InWidth = random.Next(3) == 0 ? ih : OneOrMore(random, 16),
                KernelHeight = kh,
                KernelWidth = kw,
                StrideHeight = random.Next(1, 5),
                StrideWidth = random.Next(1, 5),
                PadTop = top,
                PadBottom = symmetric ? top : random.Next(0, kh),
                PadLeft = left,
                PadRight = symmetric ? left : random.Next(0, kw),
            };
            if (problem.OutHeight > 0 && problem.OutWidth > 0) return problem;
        }
    }

    /// <summary>
    /// Image size, kernel, stride, padding (0-3 on each side, independently half the time),
    /// dilation and activation drawn at random around the batch and channels that
    /// <paramref name="channels"/> draws; the output may be empty, which callers reject.
    /// </summary>
    private static ConvProblem WithRandomWindow(Random random, int maxImage, int maxStride, int maxDilation, Func<ConvProblem> channels)
    {
        int ih = OneOrMore(random, maxImage), iw = random.Next(3) == 0 ? ih : OneOrMore(random, maxImage);
        var activation = (Activation)random.Next(5);
        bool symmetric = random.Next(2) == 0;
        int top = random.Next(0, 4), left = random.Next(0, 4);
        var problem = channels() with
        {
            InHeight = ih,
            InWidth = iw,
            KernelHeight = random.Next(1, 6),
            KernelWidth = random.Next(3) == 0 ? random.Next(1, 6) : 0,
            StrideHeight = random.Next(1, maxStride + 1),
            StrideWidth = random.Next(1, maxStride + 1),
            PadTop = top,
            PadBottom = symmetric ? top : random.Next(0, 4),
            PadLeft = left,
            PadRight = symmetric ? left : random.Next(0, 4),
            DilationHeight = random.Next(1, maxDilation + 1),
            DilationWidth = random.Next(1, maxDilation + 1),
            Activation = activation,
            // Half the slopes are powers of two, which keep backward passes exact on integer fills.
            ActivationAlpha = activation != Activation.LeakyRelu ? 0f
                : random.Next(2) == 0 ? (float)Math.Round(random.NextDouble(), 3) : 1f / (1 << random.Next(1, 5)),
        };
        return problem.KernelWidth == 0 ? problem with { KernelWidth = problem.KernelHeight } : problem;
    }

    /// <summary>1 a fifth of the time (1×1 images and rows), else up to max.</summary>
    private static int OneOrMore(Random random, int max) => random.Next(5) == 0 ? 1 : random.Next(1, max + 1);
}
