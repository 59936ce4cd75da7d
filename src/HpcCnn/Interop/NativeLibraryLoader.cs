using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HpcCnn.Interop;

/// <summary>
/// Finds and loads libhpccnn.so for the <c>[LibraryImport]</c> declarations. When it cannot be
/// loaded, the error lists every path tried and why each failed (a missing file reads differently
/// from a library that exists but does not load, e.g. a missing libgomp).
/// </summary>
internal static partial class NativeLibraryLoader
{
    /// <summary>Environment variable naming the library file to load instead of the default places.</summary>
    public const string OverrideVariable = "HPCCNN_NATIVE_LIBRARY";
    private const string FileName = "libhpccnn.so";

    private static readonly Lazy<(nint Handle, string Path)> Loaded = new(() => Load(CandidatePaths()), LazyThreadSafetyMode.ExecutionAndPublication);

#pragma warning disable CA2255 // The resolver must be in place before the first native call, from any entry point.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);

    /// <summary>Loads the library now; throws <see cref="DllNotFoundException"/> with every path tried.</summary>
    public static void EnsureLoaded() => _ = Loaded.Value;

    /// <summary>The candidate the library was loaded from (loads it if needed).</summary>
    public static string LoadedFrom => Loaded.Value.Path;

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == NativeMethods.LibraryName ? Loaded.Value.Handle : 0;

    /// <summary>Where the library is looked for, in order.</summary>
    public static IEnumerable<string> CandidatePaths()
    {
        var overridePath = Environment.GetEnvironmentVariable(OverrideVariable);
        if (!string.IsNullOrEmpty(overridePath))
        {
            yield return overridePath;
            yield break;
        }
        // The assembly's own folder matters when it is loaded from elsewhere than the app (a
        // plugin, a test host); in a single-file or AOT app Location is empty and is skipped.
#pragma warning disable IL3000
        var assemblyDirectory = Path.GetDirectoryName(typeof(NativeLibraryLoader).Assembly.Location);
#pragma warning restore IL3000
        var directories = new[] { AppContext.BaseDirectory, assemblyDirectory }
            .Where(d => !string.IsNullOrEmpty(d))
            .Select(d => Path.GetFullPath(d!))
            .Distinct();
        foreach (var directory in directories)
        {
            yield return Path.Combine(directory, FileName);
            yield return Path.Combine(directory, "runtimes", "linux-x64", "native", FileName);
        }
        yield return FileName; // the system loader's own search (LD_LIBRARY_PATH, ldconfig)
    }

    /// <summary>
    /// OpenMP workers should not spin on the host's cores after a call returns (libgomp's default
    /// spins for a while). libgomp reads its wait policy once, when it is loaded with this library,
    /// so unless the process already chose one (or already has libgomp loaded, whose policy then
    /// stands), OMP_WAIT_POLICY=PASSIVE is set for the load only and removed again: the host's
    /// environment is the same after loading as before.
    /// </summary>
    private static nint LoadWithPassiveOpenMpWorkers(string candidate)
    {
        var borrow = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null &&
                     Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is null;
        if (borrow) _ = setenv("OMP_WAIT_POLICY", "PASSIVE", overwrite: 0);
        try
        {
            return NativeLibrary.Load(candidate);
        }
        finally
        {
            if (borrow) _ = unsetenv("OMP_WAIT_POLICY");
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unsetenv(string name);

    /// <summary>The version this assembly was built with (version.txt, as the native library's).</summary>
    internal static string ExpectedVersion
    {
        get
        {
            var informational = typeof(NativeLibraryLoader).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
            var plus = informational.IndexOf('+');
            return plus < 0 ? informational : informational[..plus];
        }
    }

    /// <summary>
    /// Throws unless the library at <paramref name="path"/> is HpcCnn's of this assembly's version:
    /// the C declarations are generated from that version's header, so any other one could be called
    /// with the wrong structures.
    /// </summary>
    internal static unsafe void CheckVersion(nint handle, string path)
    {
        if (!NativeLibrary.TryGetExport(handle, "hc_version", out var export))
            throw new HpcCnnLibraryMismatchException($"{path} is not HpcCnn's native library (it has no hc_version)");
        var version = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)export)()) ?? "";
        if (version != ExpectedVersion)
            throw new HpcCnnLibraryMismatchException(
                $"{path} is HpcCnn's native library version {version}, but this HpcCnn assembly is version {ExpectedVersion}; " +
                "use the libhpccnn.so of the same package or build");
    }

    /// <summary>Loads the first candidate that works, or throws naming each one and its failure.</summary>
    public static (nint Handle, string Path) Load(IEnumerable<string> candidates)
    {
        var failures = new List<string>();
        foreach (var candidate in candidates)
        {
            if (Path.IsPathRooted(candidate) && !File.Exists(candidate))
            {
                failures.Add($"  {candidate}: no such file");
                continue;
            }
            try
            {
                var handle = LoadWithPassiveOpenMpWorkers(candidate);
                CheckVersion(handle, candidate);
                return (handle, candidate);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                failures.Add($"  {candidate}: {e.Message}");
            }
        }
        // The one system library it needs beyond glibc: name the package that provides it.
        var openMpHint = failures.Any(f => f.Contains("libgomp", StringComparison.Ordinal))
            ? " It needs the GNU OpenMP runtime libgomp.so.1: install libgomp1 (Debian, Ubuntu) or libgomp (RHEL, Fedora, SUSE)."
            : "";
        throw new DllNotFoundException(
            $"{FileName} could not be loaded.{openMpHint} The HpcCnn package carries it under runtimes/linux-x64/native; in this " +
            $"repository `dotnet build` builds it with CMake into artifacts/native; or set {OverrideVariable} to its path. " +
            $"Tried:\n{string.Join("\n", failures)}");
    }
}
