using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Silk.NET.OpenCL;

namespace HpcCnn.OpenCl;

/// <summary>
/// One device with its context, its in-order command queue and the programs built for it. Shared
/// by a backend and everything created from it: each plan and tensor holds a reference, and the
/// OpenCL objects are released when the backend and all of them are disposed.
/// </summary>
internal sealed unsafe class OpenClDevice
{
    private readonly ClHandle context;
    private readonly ClHandle queue;
    private readonly ProgramCache? diskCache;
    private readonly ConcurrentDictionary<(string Name, string Options), Lazy<ClHandle>> programs = new();
    private readonly bool correctlyRoundedDivide;
    private readonly bool verbose = Environment.GetEnvironmentVariable("HPCCNN_VERBOSE") is { Length: > 0 } v && v != "0";
    private int references = 1;

    public OpenClDevice(nint id, OpenClDeviceInfo info, bool gpuStyle, string? cacheDirectory)
    {
        Cl = OpenClApi.Cl;
        Id = id;
        Info = info;
        int status;
        nint raw = Cl.CreateContext(null, 1, &id, null, null, &status);
        OpenClApi.Check(status, "clCreateContext");
        context = new ClHandle(raw, ClHandle.Kind.Context);
        raw = Cl.CreateCommandQueue(context.Value, id, (CommandQueueProperties)0, &status);
        if (status != 0)
        {
            context.Dispose();
            OpenClApi.Check(status, "clCreateCommandQueue");
        }
        queue = new ClHandle(raw, ClHandle.Kind.Queue);
        ulong fpConfig = 0;
        Cl.GetDeviceInfo(id, DeviceInfo.SingleFPConfig, sizeof(ulong), &fpConfig, null);
        correctlyRoundedDivide = ((DeviceFpConfig)fpConfig & DeviceFpConfig.CorrectlyRoundedDivideSqrt) != 0;
        diskCache = cacheDirectory is null ? null : new ProgramCache(cacheDirectory);
        // CPU devices (PoCL) run a work-item's vectors on SIMD units: 16 floats fill an AVX-512
        // register. GPUs spread work over lanes instead; narrow vectors keep register pressure low.
        GpuStyle = gpuStyle;
        VectorWidth = gpuStyle ? 4 : 16;
    }

    public CL Cl { get; }
    public nint Id { get; }
    public OpenClDeviceInfo Info { get; }
    public nint Context => context.Value;
    public nint Queue => queue.Value;
    public int VectorWidth { get; }

    /// <summary>Kernels shaped for GPUs (see <see cref="OpenClKernelStyle.Gpu"/>), else for CPU devices.</summary>
    public bool GpuStyle { get; }

    /// <summary>Whether float division and sqrt are correctly rounded here (programs are then built so), as the oracle's are.</summary>
    public bool CorrectlyRoundedDivideSqrt => correctlyRoundedDivide;
    public string? CacheDirectory => diskCache?.Directory;

    /// <summary>Programs built from source in this process (the rest came from memory or the disk cache).</summary>
    public int SourceBuilds;

    /// <summary>Takes a reference for a plan or tensor; fails once the last reference is gone.</summary>
    public void AddReference()
    {
        while (true)
        {
            int current = Volatile.Read(ref references);
            ObjectDisposedException.ThrowIf(current == 0, this);
            if (Interlocked.CompareExchange(ref references, current + 1, current) == current) return;
        }
    }

    public void ReleaseReference()
    {
        if (Interlocked.Decrement(ref references) != 0) return;
        foreach (var program in programs.Values)
            if (program.IsValueCreated) program.Value.Dispose();
        queue.Dispose();
        context.Dispose();
    }

    /// <summary>The context's OpenCL reference count: each live buffer, kernel and program adds to it on most drivers (tests use it to find leaks).</summary>
    public uint ContextReferenceCount()
    {
        uint count = 0;
        OpenClApi.Check(Cl.GetContextInfo(Context, ContextInfo.ReferenceCount, sizeof(uint), &count, null), "clGetContextInfo");
        return count;
    }

    /// <summary>
    /// The C API's codes the kernels share (activations, pooling algorithms), from the bindings
    /// generated from hpccnn.h: one numbering for the library and the kernels.
    /// </summary>
    private static readonly string CodeDefines = string.Join(" ",
        Enum.GetValues<Interop.hc_activation>().Select(a => $"-D {a}={(int)a}")
            .Concat(Enum.GetValues<Interop.hc_pool_algorithm>().Select(a => $"-D {a}={(int)a}")));

    /// <summary>
    /// The program built from native/opencl/common.cl + <paramref name="name"/>.cl with the given
    /// -D options, built once per device and process, and loaded from the disk cache when an
    /// entry matches. Build failures throw <see cref="OpenClBuildException"/> with the log.
    /// </summary>
    public nint Program(string name, string defines)
    {
        var options = $"-D VW={VectorWidth} {CodeDefines} {defines}{(correctlyRoundedDivide ? " -cl-fp32-correctly-rounded-divide-sqrt" : "")}".Trim();
        var lazy = programs.GetOrAdd((name, options), key => new Lazy<ClHandle>(() => Build(key.Name, KernelSources.Get(key.Name), key.Options)));
        return lazy.Value.Value;
    }

    /// <summary>Builds a program from source text (tests use it to check build-failure reporting).</summary>
    internal ClHandle Build(string name, string source, string options)
    {
        var started = Stopwatch.GetTimestamp();
        var key = ProgramCache.Key(source, options, Info.Name, Info.Version, Info.DriverVersion);
        if (diskCache?.TryLoad(key) is { } binary && TryBuildFromBinary(binary, options) is { } cached)
        {
            Log($"program {name} [{options}] loaded from {diskCache.PathOf(key)} in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.0} ms");
            return cached;
        }
        var program = BuildFromSource(name, source, options);
        Interlocked.Increment(ref SourceBuilds);
        bool stored = diskCache is not null && ProgramBinary(program) is { } built && diskCache.TryStore(key, built);
        Log($"program {name} [{options}] built from source in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.0} ms{(stored ? ", cached" : "")}");
        return program;
    }

    private ClHandle BuildFromSource(string name, string source, string options)
    {
        int status;
        var bytes = Encoding.UTF8.GetBytes(source);
        nint raw;
        fixed (byte* text = bytes)
        {
            byte* strings = text;
            nuint length = (nuint)bytes.Length;
            raw = Cl.CreateProgramWithSource(Context, 1, &strings, &length, &status);
        }
        OpenClApi.Check(status, "clCreateProgramWithSource");
        var program = new ClHandle(raw, ClHandle.Kind.Program);
        nint device = Id;
        status = Cl.BuildProgram(program.Value, 1, &device, options, null, null);
        if (status != 0)
        {
            var log = BuildLog(program.Value);
            program.Dispose();
            throw new OpenClBuildException(name, options, status, log);
        }
        return program;
    }

    private ClHandle? TryBuildFromBinary(byte[] binary, string options)
    {
        int status, binaryStatus;
        nint device = Id;
        nint raw;
        fixed (byte* data = binary)
        {
            byte* binaries = data;
            nuint length = (nuint)binary.Length;
            raw = Cl.CreateProgramWithBinary(Context, 1, &device, &length, &binaries, &binaryStatus, &status);
        }
        if (status != 0 || binaryStatus != 0) return null;
        var program = new ClHandle(raw, ClHandle.Kind.Program);
        if (Cl.BuildProgram(program.Value, 1, &device, options, null, null) == 0) return program;
        program.Dispose();
        return null;
    }

    private byte[]? ProgramBinary(ClHandle program)
    {
        nuint size = 0;
        if (Cl.GetProgramInfo(program.Value, ProgramInfo.BinarySizes, (nuint)sizeof(nuint), &size, null) != 0 || size == 0) return null;
        var binary = new byte[size];
        fixed (byte* data = binary)
        {
            byte* pointer = data;
            if (Cl.GetProgramInfo(program.Value, ProgramInfo.Binaries, (nuint)sizeof(nint), &pointer, null) != 0) return null;
        }
        return binary;
    }

    private string BuildLog(nint program)
    {
        nuint size = 0;
        Cl.GetProgramBuildInfo(program, Id, ProgramBuildInfo.BuildLog, 0, null, &size);
        if (size == 0) return "(the driver gave no build log)";
        var bytes = new byte[size];
        fixed (byte* b = bytes) Cl.GetProgramBuildInfo(program, Id, ProgramBuildInfo.BuildLog, size, b, null);
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    public ClHandle CreateKernel(nint program, string name)
    {
        int status;
        nint raw = Cl.CreateKernel(program, name, &status);
        OpenClApi.Check(status, $"clCreateKernel({name})");
        return new ClHandle(raw, ClHandle.Kind.Kernel);
    }

    /// <summary>A device buffer of <paramref name="floats"/> floats (at least one), filled from <paramref name="initial"/> when given.</summary>
    /// <exception cref="ArgumentException">More than the device allocates in one buffer (a problem too large for it).</exception>
    public ClHandle CreateBuffer(long floats, ReadOnlySpan<float> initial = default)
    {
        int status;
        var size = Math.Max(floats, 1) * (double)sizeof(float);
        if (size > Info.MaxAllocationBytes)
            throw new ArgumentException(
                $"a buffer of {floats} floats ({size:0} bytes) is larger than {Info.Name} allocates at once ({Info.MaxAllocationBytes} bytes)", nameof(floats));
        nuint bytes = (nuint)(Math.Max(floats, 1) * sizeof(float));
        nint raw;
        fixed (float* data = initial)
        {
            raw = initial.IsEmpty
                ? Cl.CreateBuffer(Context, MemFlags.ReadWrite, bytes, null, &status)
                : Cl.CreateBuffer(Context, MemFlags.ReadWrite | MemFlags.CopyHostPtr, bytes, data, &status);
        }
        OpenClApi.Check(status, "clCreateBuffer");
        return new ClHandle(raw, ClHandle.Kind.Buffer);
    }

    /// <summary>Blocking write: the span may be reused as soon as this returns.</summary>
    public void Write(ClHandle buffer, long offset, ReadOnlySpan<float> source)
    {
        if (source.IsEmpty) return;
        fixed (float* data = source)
            OpenClApi.Check(Cl.EnqueueWriteBuffer(Queue, buffer.Value, true, (nuint)(offset * sizeof(float)),
                (nuint)(source.Length * sizeof(float)), data, 0, null, null), "clEnqueueWriteBuffer");
    }

    /// <summary>Blocking read: waits for every command enqueued before it (the queue is in order).</summary>
    public void Read(ClHandle buffer, long offset, Span<float> destination)
    {
        if (destination.IsEmpty) return;
        fixed (float* data = destination)
            OpenClApi.Check(Cl.EnqueueReadBuffer(Queue, buffer.Value, true, (nuint)(offset * sizeof(float)),
                (nuint)(destination.Length * sizeof(float)), data, 0, null, null), "clEnqueueReadBuffer");
    }

    /// <summary>Queues a device-to-device copy of <paramref name="floats"/> floats (in order with the other commands).</summary>
    public void Copy(ClHandle source, ClHandle destination, long floats)
    {
        if (floats <= 0) return;
        OpenClApi.Check(Cl.EnqueueCopyBuffer(Queue, source.Value, destination.Value, 0, 0, (nuint)(floats * sizeof(float)), 0, null, null),
            "clEnqueueCopyBuffer");
    }

    public void SetArgument<T>(ClHandle kernel, uint index, T value) where T : unmanaged =>
        OpenClApi.Check(Cl.SetKernelArg(kernel.Value, index, (nuint)sizeof(T), &value), "clSetKernelArg");

    public void SetArgument(ClHandle kernel, uint index, ClHandle buffer)
    {
        nint value = buffer.Value;
        OpenClApi.Check(Cl.SetKernelArg(kernel.Value, index, (nuint)sizeof(nint), &value), "clSetKernelArg");
    }

    /// <summary>
    /// The work-group size for a kernel: in the Cpu style a fixed size per kernel kind (each
    /// distinct size costs PoCL a JIT compilation), in the Gpu style the preferred multiple
    /// (at least 16) times four; within the kernel's limit either way.
    /// </summary>
    public nuint WorkGroupSize(ClHandle kernel, int cpuSize)
    {
        nuint multiple = 0;
        Cl.GetKernelWorkGroupInfo(kernel.Value, Id, KernelWorkGroupInfo.PreferredWorkGroupSizeMultiple, (nuint)sizeof(nuint), &multiple, null);
        nuint wanted = GpuStyle ? Math.Max(multiple, 16) * 4 : (nuint)cpuSize;
        return Math.Max(Math.Min(wanted, KernelWorkGroupLimit(kernel)), 1);
    }

    /// <summary>The largest work-group this kernel can run with on this device (registers and local memory permitting).</summary>
    public nuint KernelWorkGroupLimit(ClHandle kernel)
    {
        nuint limit = 0;
        Cl.GetKernelWorkGroupInfo(kernel.Value, Id, KernelWorkGroupInfo.WorkGroupSize, (nuint)sizeof(nuint), &limit, null);
        return limit > 0 ? limit : (nuint)Info.MaxWorkGroupSize;
    }

    /// <summary>Enqueues a 1-D launch over <paramref name="items"/> work-items, rounded up to whole work-groups (kernels check their index).</summary>
    public void Launch(ClHandle kernel, long items, nuint groupSize)
    {
        if (items <= 0) return;
        nuint global = (nuint)((items + (long)groupSize - 1) / (long)groupSize) * groupSize;
        nuint local = groupSize;
        OpenClApi.Check(Cl.EnqueueNdrangeKernel(Queue, kernel.Value, 1, null, &global, &local, 0, null, null), "clEnqueueNDRangeKernel");
    }

    public void Finish() => OpenClApi.Check(Cl.Finish(Queue), "clFinish");

    private void Log(string message)
    {
        if (verbose) Console.Error.WriteLine($"hpccnn: opencl {Info.Name}: {message}");
    }
}

/// <summary>The kernel sources embedded from native/opencl: common.cl is prepended to each program.</summary>
internal static class KernelSources
{
    private static readonly ConcurrentDictionary<string, string> Cache = new();

    public static string Get(string name) => Cache.GetOrAdd(name, n => Read("common") + "\n" + Read(n));

    private static string Read(string name)
    {
        using var stream = typeof(KernelSources).Assembly.GetManifestResourceStream($"HpcCnn.OpenCl.Kernels.{name}.cl")
            ?? throw new InvalidOperationException($"kernel source {name}.cl is not embedded in the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
