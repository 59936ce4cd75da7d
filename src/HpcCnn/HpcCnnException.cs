namespace HpcCnn;

/// <summary>The status a native call of libhpccnn returned (<c>hc_status</c> in <c>hpccnn.h</c>).</summary>
public enum HpcCnnStatus
{
    /// <summary>HC_STATUS_OK.</summary>
    Ok = 0,
    /// <summary>HC_STATUS_INVALID_ARGUMENT: a problem or buffer the C library refused.</summary>
    InvalidArgument = 1,
    /// <summary>HC_STATUS_UNSUPPORTED: valid, but no algorithm of the library runs it.</summary>
    Unsupported = 2,
    /// <summary>HC_STATUS_OUT_OF_MEMORY: the library could not allocate a workspace or packed weights.</summary>
    OutOfMemory = 3,
    /// <summary>HC_STATUS_INTERNAL: a bug in the library.</summary>
    Internal = 4,
}

/// <summary>
/// A failure reported by the native library: the <see cref="Status"/> it returned and its message
/// (<c>hc_last_error()</c>), or a native library that does not match this assembly. Arguments the
/// C library refuses are <see cref="HpcCnnArgumentException"/>s instead, so that callers catching
/// <see cref="ArgumentException"/> (which the managed checks throw first) catch them too.
/// </summary>
public class HpcCnnException(string message, HpcCnnStatus status, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>What the native call returned; <see cref="HpcCnnStatus.Internal"/> for a library mismatch.</summary>
    public HpcCnnStatus Status { get; } = status;
}

/// <summary>The native library could not allocate memory (the managed heap may be fine).</summary>
public sealed class HpcCnnOutOfMemoryException(string message) : HpcCnnException(message, HpcCnnStatus.OutOfMemory);

/// <summary>The problem is valid, but the native library has no algorithm for it.</summary>
public sealed class HpcCnnUnsupportedException(string message) : HpcCnnException(message, HpcCnnStatus.Unsupported);

/// <summary>
/// The libhpccnn.so that was loaded is not the one this assembly was built with (another version,
/// or not HpcCnn's library at all); the message names the file and both versions.
/// </summary>
public sealed class HpcCnnLibraryMismatchException(string message) : HpcCnnException(message, HpcCnnStatus.Internal);

/// <summary>An argument the native library refused (HC_STATUS_INVALID_ARGUMENT), with its message.</summary>
public sealed class HpcCnnArgumentException(string message) : ArgumentException(message)
{
    /// <summary>Always <see cref="HpcCnnStatus.InvalidArgument"/>.</summary>
    public HpcCnnStatus Status => HpcCnnStatus.InvalidArgument;
}
