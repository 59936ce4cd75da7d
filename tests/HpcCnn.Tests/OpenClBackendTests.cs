using System.Diagnostics;
using HpcCnn.OpenCl;

namespace HpcCnn.Tests;

/// <summary>
/// What the OpenCL backend adds to the shared operations: device selection, device tensors,
/// queued runs without host round trips, the program cache, error reporting and releasing every
/// OpenCL object. Skipped with the reason where there is no OpenCL platform, except under CI.
/// </summary>
public class OpenClBackendTests
{
    [SkippableFact]
    public void Devices_are_listed_and_selected_by_index_or_name()
    {
        var backend = TestBackends.OpenCl();
        var devices = OpenClPlatforms.Query().Devices.ToList();
        Assert.NotEmpty(devices);
        Assert.Equal(Enumerable.Range(0, devices.Count), devices.Select(d => d.Index));
        // The default is the first GPU, else the first device.
        var expected = devices.FirstOrDefault(d => d.IsGpu) ?? devices[0];
        Assert.Equal(expected, backend.Device);
        Assert.All(devices, d => Assert.True(d.ComputeUnits > 0 && d.GlobalMemoryBytes > 0 && d.MaxWorkGroupSize > 0, d.ToString()));

        var last = devices[^1];
        using (var byIndex = new OpenClBackend(new OpenClBackendOptions { DeviceIndex = last.Index }))
            Assert.Equal(last, byIndex.Device);
        var fragment = last.Name[..Math.Min(6, last.Name.Length)].ToUpperInvariant();
        using (var byName = new OpenClBackend(new OpenClBackendOptions { DeviceName = fragment }))
            Assert.Contains(fragment, byName.Device.Name, StringComparison.OrdinalIgnoreCase);
    }

    [SkippableFact]
    public void A_selection_that_matches_nothing_is_a_typed_error_listing_the_devices()
    {
        var device = TestBackends.OpenCl().Device;
        var byName = Assert.Throws<OpenClUnavailableException>(() => new OpenClBackend(new OpenClBackendOptions { DeviceName = "no such device" }));
        Assert.Contains("'no such device'", byName.Message);
        Assert.Contains(device.Name, byName.Message);
        var byIndex = Assert.Throws<OpenClUnavailableException>(() => new OpenClBackend(new OpenClBackendOptions { DeviceIndex = 999 }));
        Assert.Contains("index 999", byIndex.Message);
    }

    [SkippableFact]
    public void Tensors_upload_and_download_with_offsets_and_reject_what_does_not_fit()
    {
        var backend = TestBackends.OpenCl();
        var values = Enumerable.Range(0, 100).Select(i => (float)i).ToArray();
        using var tensor = backend.Upload(values);
        Assert.Equal(100, tensor.Length);
        Assert.Equal(values, tensor.ToArray());
        tensor.Upload([-1f, -2f], offset: 98);
        var tail = new float[3];
        tensor.Download(tail, offset: 97);
        Assert.Equal([97f, -1f, -2f], tail);
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => tensor.Upload(new float[2], offset: 99)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => tensor.Download(new float[101])).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => tensor.Download(new float[1], offset: -1));
        using var empty = backend.CreateTensor(0);
        Assert.Empty(empty.ToArray());
        tensor.Dispose();
        tensor.Dispose(); // idempotent
        Assert.Throws<ObjectDisposedException>(() => tensor.ToArray());
    }

    /// <summary>
    /// conv → ReLU → pool on device tensors, queued back to back with one download at the end,
    /// equals the same chain on the CPU backend with spans (integer fills: exact).
    /// </summary>
    [SkippableFact]
    public void A_chain_of_plans_runs_on_device_tensors_and_matches_the_cpu()
    {
        var backend = TestBackends.OpenCl();
        var conv = ConvProblem.Parse("mb2ic5ih17oc12kh3ph1");
        var pool = PoolProblem.Parse("--alg=max mb2ic12ih17kh3sh2ph1");
        var random = new Random(3);
        var x = Fill.Values(conv.InputLength, FillKind.SmallIntegers, random, 0.25f);
        var w = Fill.Values(conv.WeightsLength, FillKind.SmallIntegers, random, 0.125f);
        var b = Fill.Values(conv.BiasLength, FillKind.SmallIntegers, random, 0.5f);

        using var convPlan = backend.CreateConvPlan(conv, w, b);
        using var poolPlan = backend.CreatePoolPlan(pool);
        using var input = backend.Upload(x);
        using var convolved = backend.CreateTensor(conv.OutputLength);
        using var pooled = backend.CreateTensor(pool.OutputLength);
        convPlan.Run(input, convolved);
        backend.Eltwise(Activation.Relu, convolved, convolved);
        poolPlan.Run(convolved, pooled);
        var actual = pooled.ToArray();

        var cpu = TestBackends.Cpu.Value;
        var expectedConv = new float[conv.OutputLength];
        using (var plan = cpu.CreateConvPlan(conv, w, b)) plan.Run(x, expectedConv);
        cpu.Eltwise(Activation.Relu, expectedConv, expectedConv);
        var expected = new float[pool.OutputLength];
        using (var plan = cpu.CreatePoolPlan(pool)) plan.Run(expectedConv, expected);
        Assert.Equal(expected, actual);
        Assert.Contains(actual, v => v > 0);
    }

    /// <summary>
    /// Weights handed over in device buffers (as an optimizer leaves them) are packed on the device
    /// and give the same bits as weights handed over from the host, for every weight layout: the
    /// GEMM and register-tiled forward kernels, depthwise, backward data as a flipped forward and
    /// by gather, and the dense layer.
    /// </summary>
    [SkippableTheory]
    [InlineData("mb2ic6ih14oc16kh5", "FWD_D")]
    [InlineData("g2mb2ic6ih9oc10kh3ph1", "FWD_I")]
    [InlineData("g8mb1ic8ih9oc8kh3ph1", "FWD_I")]
    [InlineData("mb2ic6ih14oc16kh5ph2", "BWD_D")]
    [InlineData("mb2ic4ih9oc6kh3sh2ph1", "BWD_D")]
    [InlineData("--ip mb3ic20oc7", "FWD_D")]
    [InlineData("--ip mb3ic4ih3oc7", "BWD_D")]
    public void Weights_from_device_buffers_equal_weights_from_the_host(string descriptor, string direction)
    {
        foreach (var backend in TestBackends.OpenClForEveryKernelStyle())
        {
            var problem = ProblemSuite.Parse([$"--dir={direction} {descriptor}"]).Single();
            var weighted = (IWeightedProblem)problem;
            var random = new Random(5);
            float[] Values(long n) => [.. Enumerable.Range(0, (int)n).Select(_ => (float)random.Next(-4, 5))];
            var (w, b) = (Values(weighted.WeightsLength), Values(weighted.BiasLength));
            bool forward = problem.Direction.IsForward();
            var x = Values(forward ? weighted.InputLength : weighted.OutputLength);
            using var xs = backend.Upload(x);
            using var ws = backend.Upload(w);
            using var bs = backend.Upload(b);
            long outputs = forward ? weighted.OutputLength : weighted.InputLength;
            using var fromHost = backend.Allocate(outputs);
            using var fromDevice = backend.Allocate(outputs);
            void Run(DeviceBuffer output, bool device)
            {
                switch (problem)
                {
                    case ConvProblem conv:
                        using (var plan = backend.CreateConvPlan(conv))
                        {
                            if (device) plan.SetWeights(ws, forward ? bs : null);
                            else plan.SetWeights(w, forward ? b : default);
                            if (forward) plan.Forward(xs, output);
                            else plan.BackwardData(xs, output);
                        }
                        break;
                    case DenseProblem dense:
                        using (var plan = backend.CreateDensePlan(dense))
                        {
                            if (device) plan.SetWeights(ws, forward ? bs : null);
                            else plan.SetWeights(w, forward ? b : default);
                            if (forward) plan.Forward(xs, output);
                            else plan.BackwardData(xs, output);
                        }
                        break;
                }
            }
            Run(fromHost, device: false);
            Run(fromDevice, device: true);
            Assert.Equal(fromHost.ToArray(), fromDevice.ToArray());
        }
    }

    [SkippableFact]
    public void Tensor_runs_check_lengths_aliasing_and_ownership()
    {
        var backend = TestBackends.OpenCl();
        var problem = ConvProblem.Parse("mb1ic2ih6oc3kh3ph1");
        using var plan = backend.CreateConvPlan(problem, new float[problem.WeightsLength]);
        using var input = backend.CreateTensor(problem.InputLength);
        using var shortInput = backend.CreateTensor(problem.InputLength - 1);
        using var output = backend.CreateTensor(problem.OutputLength);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => plan.Run(shortInput, output)).ParamName);
        using var both = backend.CreateTensor(Math.Max(problem.InputLength, problem.OutputLength));
        Assert.Contains("must be a buffer of its own", Assert.Throws<ArgumentException>(() => plan.Run(both, both)).Message);
        using var other = new OpenClBackend();
        using var foreign = other.CreateTensor(problem.OutputLength);
        Assert.Contains("belongs to another backend or device", Assert.Throws<ArgumentException>(() => plan.Run(input, foreign)).Message);
        Assert.Throws<ArgumentException>(() => backend.Eltwise(Activation.Relu, input, shortInput));
        plan.Dispose();
        Assert.Throws<ObjectDisposedException>(() => plan.Run(input, output));
    }

    [SkippableFact]
    public void Plans_and_tensors_outlive_their_backend_until_disposed()
    {
        TestBackends.OpenCl();
        var problem = PoolProblem.Parse("--alg=avg_np mb1ic3ih8kh2sh2");
        var backend = new OpenClBackend();
        var plan = backend.CreatePoolPlan(problem);
        var input = backend.Upload(Fill.Values(problem.InputLength, FillKind.SmallIntegers, new Random(1)));
        using var output = backend.CreateTensor(problem.OutputLength);
        backend.Dispose();
        Assert.Throws<ObjectDisposedException>(() => backend.CreateTensor(1));
        plan.Run(input, output);
        var expected = new float[problem.OutputLength];
        using (var cpuPlan = TestBackends.Cpu.Value.CreatePoolPlan(problem)) cpuPlan.Run(input.ToArray(), expected);
        Assert.Equal(expected, output.ToArray());
        plan.Dispose();
        input.Dispose();
    }

    [SkippableFact]
    public void Plans_can_run_concurrently_on_different_tensors()
    {
        var backend = TestBackends.OpenCl();
        var problem = ConvProblem.Parse("mb1ic8ih12oc8kh3ph1sh2");
        var random = new Random(9);
        using var plan = backend.CreateConvPlan(problem, Fill.Values(problem.WeightsLength, FillKind.SmallIntegers, random));
        var inputs = Enumerable.Range(0, 6).Select(_ => Fill.Values(problem.InputLength, FillKind.SmallIntegers, random)).ToArray();
        var expected = inputs.Select(x => { var y = new float[problem.OutputLength]; plan.Run(x, y); return y; }).ToArray();
        var actual = new float[inputs.Length][];
        Parallel.For(0, inputs.Length, i =>
        {
            using var x = backend.Upload(inputs[i]);
            using var y = backend.CreateTensor(problem.OutputLength);
            for (int repeat = 0; repeat < 10; repeat++) plan.Run(x, y);
            actual[i] = y.ToArray();
        });
        for (int i = 0; i < inputs.Length; i++) Assert.Equal(expected[i], actual[i]);
    }

    /// <summary>10,000 plan and tensor create/dispose cycles release every OpenCL object they made.</summary>
    [SkippableFact]
    public void Ten_thousand_create_dispose_cycles_leak_no_opencl_objects()
    {
        TestBackends.OpenCl();
        using var backend = new OpenClBackend();
        var conv = ConvProblem.Parse("mb1ic3ih8oc4kh3ph1sh2");
        var pool = PoolProblem.Parse("--alg=max mb1ic3ih8kh2sh2");
        var weights = new float[conv.WeightsLength];
        var x = new float[conv.InputLength];
        var y = new float[conv.OutputLength];
        void Cycle(int i)
        {
            using var plan = backend.CreateConvPlan(conv, weights);
            using var poolPlan = backend.CreatePoolPlan(pool);
            if (i % 100 == 0) plan.Run(x, y); // some with staging buffers
            using var tensor = backend.CreateTensor(16);
        }
        for (int i = 0; i < 50; i++) Cycle(i); // builds the programs, warms the driver
        var device = backend.DeviceRuntime;
        uint before = device.ContextReferenceCount();
        long memoryBefore = Process.GetCurrentProcess().WorkingSet64;
        for (int i = 0; i < 10_000; i++) Cycle(i);
        GC.Collect();
        Assert.Equal(before, device.ContextReferenceCount());
        long growth = Process.GetCurrentProcess().WorkingSet64 - memoryBefore;
        Assert.True(growth < 64L << 20, $"working set grew by {growth >> 20} MiB over 10,000 cycles");
    }

    [SkippableFact]
    public void A_failed_build_reports_the_compiler_log()
    {
        var device = TestBackends.OpenCl().DeviceRuntime;
        var error = Assert.Throws<OpenClBuildException>(() =>
            device.Build("broken", "kernel void broken(global float* y) { y[0] = undeclared_name; }", ""));
        Assert.Contains("undeclared_name", error.BuildLog);
        Assert.Contains("BuildProgramFailure (-11)", error.Message);
        Assert.Equal(-11, error.ErrorCode);
    }

    [Fact]
    public void Error_codes_are_translated_to_names()
    {
        Assert.Equal("OutOfResources (-5)", OpenClPlatforms.ErrorName(-5));
        Assert.Equal("InvalidKernelArgs (-52)", OpenClPlatforms.ErrorName(-52));
        Assert.Equal("error -12345", OpenClPlatforms.ErrorName(-12345));
        Assert.Contains("InvalidValue (-30)", new OpenClException("clCreateBuffer", -30).Message);
    }

    /// <summary>
    /// The first backend on an empty cache folder builds from source and writes entries; a second
    /// one loads them; corrupt and truncated entries are rebuilt and rewritten, and results stay right.
    /// </summary>
    [SkippableFact]
    public void Programs_are_cached_on_disk_and_bad_entries_are_rebuilt()
    {
        TestBackends.OpenCl();
        var folder = Directory.CreateTempSubdirectory("hpccnn-cache-test").FullName;
        try
        {
            var problem = PoolProblem.Parse("--alg=max mb1ic2ih9kh3sh2");
            var options = new OpenClBackendOptions { ProgramCacheDirectory = folder };
            var input = Fill.Values(problem.InputLength, FillKind.SmallIntegers, new Random(2));
            var expected = new float[problem.OutputLength];
            using (var plan = TestBackends.Cpu.Value.CreatePoolPlan(problem)) plan.Run(input, expected);

            int SourceBuilds()
            {
                using var backend = new OpenClBackend(options);
                using var plan = backend.CreatePoolPlan(problem);
                var output = new float[problem.OutputLength];
                plan.Run(input, output);
                Assert.Equal(expected, output);
                return backend.DeviceRuntime.SourceBuilds;
            }

            Assert.Equal(1, SourceBuilds());
            var entry = Assert.Single(Directory.GetFiles(folder));
            Assert.Equal(0, SourceBuilds());

            var bytes = File.ReadAllBytes(entry);
            bytes[^1] ^= 0x5a;                                   // payload no longer matches its hash
            File.WriteAllBytes(entry, bytes);
            Assert.Equal(1, SourceBuilds());
            Assert.Equal(0, SourceBuilds());                     // rewritten

            File.WriteAllBytes(entry, bytes[..40]);              // truncated header
            Assert.Equal(1, SourceBuilds());
            File.WriteAllBytes(entry, "not a program at all"u8.ToArray());
            Assert.Equal(1, SourceBuilds());
            Assert.Equal(0, SourceBuilds());
            Assert.Single(Directory.GetFiles(folder));           // no temporary files left behind
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Cache_keys_change_with_source_options_device_and_driver()
    {
        var key = ProgramCache.Key("src", "-D VW=16", "dev", "OpenCL 3.0", "3.1");
        Assert.Equal(key, ProgramCache.Key("src", "-D VW=16", "dev", "OpenCL 3.0", "3.1"));
        Assert.NotEqual(key, ProgramCache.Key("src2", "-D VW=16", "dev", "OpenCL 3.0", "3.1"));
        Assert.NotEqual(key, ProgramCache.Key("src", "-D VW=8", "dev", "OpenCL 3.0", "3.1"));
        Assert.NotEqual(key, ProgramCache.Key("src", "-D VW=16", "dev2", "OpenCL 3.0", "3.1"));
        Assert.NotEqual(key, ProgramCache.Key("src", "-D VW=16", "dev", "OpenCL 3.0", "3.2"));
    }

    [Fact]
    public void A_cache_entry_with_another_key_or_format_is_ignored()
    {
        var folder = Directory.CreateTempSubdirectory("hpccnn-cache-test").FullName;
        try
        {
            var cache = new ProgramCache(folder);
            byte[] key = ProgramCache.Key("a", "", "d", "v", "1"), other = ProgramCache.Key("b", "", "d", "v", "1");
            Assert.True(cache.TryStore(key, [1, 2, 3]));
            Assert.Equal([1, 2, 3], cache.TryLoad(key));
            File.Copy(cache.PathOf(key), cache.PathOf(other));   // right format, wrong key inside
            Assert.Null(cache.TryLoad(other));
            var bytes = File.ReadAllBytes(cache.PathOf(key));
            bytes[8] = (byte)(ProgramCache.FormatVersion + 1);  // another format version
            File.WriteAllBytes(cache.PathOf(key), bytes);
            Assert.Null(cache.TryLoad(key));
            Assert.Null(new ProgramCache(Path.Combine(folder, "missing")).TryLoad(key));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
