using System.Runtime.InteropServices;

namespace HpcCnn.Interop;

/// <summary>Turns a failed <c>hc_status</c> and the thread's <c>hc_last_error()</c> into the matching <see cref="HpcCnnException"/> (or <see cref="HpcCnnArgumentException"/>).</summary>
internal static unsafe class NativeStatus
{
    public static void Check(hc_status status, string function)
    {
        if (status == hc_status.HC_STATUS_OK) return;
        var message = $"{function}: {Utf8(NativeMethods.hc_last_error())}";
        throw status switch
        {
            hc_status.HC_STATUS_INVALID_ARGUMENT => new HpcCnnArgumentException(message),
            hc_status.HC_STATUS_UNSUPPORTED => new HpcCnnUnsupportedException(message),
            hc_status.HC_STATUS_OUT_OF_MEMORY => new HpcCnnOutOfMemoryException(message),
            _ => new HpcCnnException($"{message} ({Utf8(NativeMethods.hc_status_string(status))})", (HpcCnnStatus)status),
        };
    }

    /// <summary>Copies a static or thread-local C string owned by the library.</summary>
    public static string Utf8(byte* text) => Marshal.PtrToStringUTF8((nint)text) ?? "";
}
