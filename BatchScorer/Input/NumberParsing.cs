using System.Buffers.Text;
using System.Globalization;

namespace MlPlatform.BatchScorer.Input;

/// <summary>Culture-invariant parsing of one UTF-8 field; the whole field must be consumed.</summary>
internal static class NumberParsing
{
    private const NumberStyles FloatStyle = NumberStyles.Float;

    public static bool TryParseSingle(ReadOnlySpan<byte> s, out float value) =>
        float.TryParse(s, FloatStyle, CultureInfo.InvariantCulture, out value) && float.IsFinite(value);

    public static bool TryParseDouble(ReadOnlySpan<byte> s, out double value) =>
        double.TryParse(s, FloatStyle, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    public static bool TryParseInt32(ReadOnlySpan<byte> s, out int value) =>
        Utf8Parser.TryParse(s, out value, out var consumed) && consumed == s.Length;

    public static bool TryParseInt64(ReadOnlySpan<byte> s, out long value) =>
        Utf8Parser.TryParse(s, out value, out var consumed) && consumed == s.Length;

    public static bool TryParseBoolean(ReadOnlySpan<byte> s, out bool value)
    {
        if (s.SequenceEqual("true"u8) || s.SequenceEqual("1"u8))
        {
            value = true;
            return true;
        }
        if (s.SequenceEqual("false"u8) || s.SequenceEqual("0"u8))
        {
            value = false;
            return true;
        }
        value = false;
        return false;
    }
}
