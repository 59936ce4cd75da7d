using System.Globalization;
using System.Text;

namespace HpcCnn.Problems;

/// <summary>
/// One benchdnn-style problem line taken apart: leading <c>--option=value</c> settings, then the
/// descriptor itself, a run of <c>key</c><c>number</c> pairs such as <c>mb1ic3ih227</c>, optionally
/// separated by '_' and ending with a name <c>n"alexnet_c1"</c>.
/// </summary>
internal sealed class Descriptor
{
    private readonly Dictionary<string, long> values = [];

    public string Text { get; }
    public string? Name { get; private set; }
    public IReadOnlyDictionary<string, string> Options { get; }

    private Descriptor(string text, IReadOnlyDictionary<string, string> options)
    {
        Text = text;
        Options = options;
    }

    /// <summary>Splits a whole line: options first, then exactly one descriptor.</summary>
    public static Descriptor ParseLine(string line, IReadOnlySet<string> keys, string driver)
    {
        ArgumentNullException.ThrowIfNull(line);
        var options = new Dictionary<string, string>();
        string? descriptor = null;
        foreach (var token in Tokenize(line))
        {
            if (token == "--" + driver) continue; // the problem's own driver option, as benchdnn writes a reproducer
            if (token.StartsWith("--", StringComparison.Ordinal))
            {
                AddOption(options, token, line);
            }
            else if (descriptor is null)
            {
                descriptor = token;
            }
            else
            {
                throw new FormatException($"'{line}': more than one descriptor ('{descriptor}' and '{token}')");
            }
        }
        if (descriptor is null) throw new FormatException($"'{line}': no problem descriptor");
        return Parse(descriptor, keys, options);
    }

    /// <summary>Splits on white space, keeping a quoted name (which may hold spaces) in one token.</summary>
    internal static IEnumerable<string> Tokenize(string line)
    {
        var current = new StringBuilder();
        bool quoted = false;
        foreach (char c in line)
        {
            if (c == '"') quoted = !quoted;
            if (!quoted && char.IsWhiteSpace(c))
            {
                if (current.Length > 0) yield return current.ToString();
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }
        if (quoted) throw new FormatException($"'{line}': unterminated quoted name");
        if (current.Length > 0) yield return current.ToString();
    }

    internal static void AddOption(Dictionary<string, string> options, string token, string context)
    {
        int equals = token.IndexOf('=');
        if (equals < 3 || equals == token.Length - 1)
            throw new FormatException($"'{context}': option '{token}' must look like --name=value");
        options[token[2..equals]] = token[(equals + 1)..];
    }

    public static Descriptor Parse(string text, IReadOnlySet<string> keys, IReadOnlyDictionary<string, string> options)
    {
        var descriptor = new Descriptor(text, options);
        int i = 0;
        while (i < text.Length)
        {
            if (text[i] == '_')
            {
                i++;
                continue;
            }
            int keyStart = i;
            while (i < text.Length && char.IsAsciiLetterLower(text[i])) i++;
            string key = text[keyStart..i];
            if (key.Length == 0)
                throw new FormatException($"'{text}': expected a parameter name at position {keyStart}, found '{text[keyStart]}'");
            if (key == "n")
            {
                descriptor.Name = ReadName(text, ref i);
                continue;
            }
            if (!keys.Contains(key))
                throw new FormatException($"'{text}': unknown parameter '{key}' at position {keyStart}; expected one of {string.Join(", ", keys.Order())}, n");
            int numberStart = i;
            while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
            if (numberStart == i)
                throw new FormatException($"'{text}': parameter '{key}' at position {keyStart} has no value");
            if (!long.TryParse(text.AsSpan(numberStart, i - numberStart), NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value > int.MaxValue)
                throw new FormatException($"'{text}': value of '{key}' is larger than {int.MaxValue}");
            // benchdnn's own shape files repeat a key now and then; only a contradiction is an error.
            if (descriptor.values.TryGetValue(key, out long earlier) && earlier != value)
                throw new FormatException($"'{text}': parameter '{key}' is given twice with different values ({earlier} and {value})");
            descriptor.values[key] = value;
        }
        return descriptor;
    }

    private static string ReadName(string text, ref int i)
    {
        if (i < text.Length && text[i] == '"')
        {
            int close = text.IndexOf('"', i + 1);
            if (close < 0) throw new FormatException($"'{text}': unterminated quoted name");
            string quoted = text[(i + 1)..close];
            i = close + 1;
            return quoted;
        }
        // An unquoted name runs to the end of the descriptor.
        string rest = text[i..];
        i = text.Length;
        if (rest.Length == 0) throw new FormatException($"'{text}': 'n' has no name");
        return rest;
    }

    /// <summary>The direction the <c>--dir=</c> option gives, forward inference without one.</summary>
    public Direction Direction => Options.TryGetValue("dir", out var dir) ? DirectionText.Parse(dir) : Direction.ForwardInference;

    public bool Has(string key) => values.ContainsKey(key);

    public int Get(string key, long fallback) => (int)(values.TryGetValue(key, out long v) ? v : fallback);

    /// <summary>The value, or null when the text does not give the key.</summary>
    public int? Find(string key) => values.TryGetValue(key, out long v) ? (int)v : null;

    public int Required(string key) =>
        values.TryGetValue(key, out long v) ? (int)v : throw new FormatException($"'{Text}': required parameter '{key}' is missing");

    /// <summary>Fails when the text uses any of <paramref name="keys"/> (parameters of another kind of problem).</summary>
    public void RejectKeys(string kind, params string[] keys)
    {
        foreach (var key in keys)
            if (Has(key)) throw new FormatException($"'{Text}': '{key}' is not a {kind} parameter");
    }

    /// <summary>Fails on any option not in <paramref name="allowed"/>.</summary>
    public void RejectOptionsExcept(params string[] allowed)
    {
        foreach (var option in Options.Keys)
            if (!allowed.Contains(option))
                throw new FormatException($"'{Text}': option --{option} does not apply here" +
                    (allowed.Length > 0 ? $" (allowed: {string.Join(", ", allowed.Select(a => "--" + a))})" : ""));
    }

    /// <summary>Writes <c>key</c><c>value</c> unless the value equals the default.</summary>
    public static void Append(StringBuilder text, string key, long value, long omitWhen)
    {
        if (value != omitWhen) text.Append(key).Append(value.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// benchdnn's dims form of the drivers without spatial keys (eltwise, softmax): sizes joined by
    /// <c>x</c>, then an optional <c>n"name"</c> (after an optional <c>_</c>).
    /// </summary>
    public static (long[] Sizes, string? Name) ParseDims(string text)
    {
        string? name = null;
        string dims = text;
        int nameAt = dims.IndexOf("n\"", StringComparison.Ordinal);
        if (nameAt >= 0)
        {
            if (!dims.EndsWith('"') || dims.Length < nameAt + 3) throw new FormatException($"'{text}': unterminated quoted name");
            name = dims[(nameAt + 2)..^1];
            dims = dims[..nameAt].TrimEnd('_');
        }
        var parts = dims.Split('x');
        var sizes = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!long.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out sizes[i]) ||
                sizes[i] > int.MaxValue)
                throw new FormatException($"'{text}': dimensions must be sizes joined by 'x', e.g. 64x6x28x28");
        return (sizes, name);
    }

    public static void AppendName(StringBuilder text, string? name)
    {
        if (name is null) return;
        if (name.Contains('"')) throw new FormatException($"problem name '{name}' must not contain '\"'");
        text.Append("n\"").Append(name).Append('"');
    }
}
