using System.Buffers.Text;
using csFastFloat;

namespace MlPlatform.Inference.Protocol;

/// <summary>
/// The fast path for FP32/FP64 <c>data</c>: one pass over the raw bytes of a number or a (nested) array of numbers, which checks
/// the JSON grammar itself (the header pass passes over data arrays without reading them), with the common decimal forms converted
/// by exact arithmetic rather than through
/// <see cref="System.Text.Json.Utf8JsonReader"/> tokens and <see cref="Utf8Parser"/> (profiling put those at a quarter of the
/// scorer's CPU on JSON requests). Results are bit-identical to <see cref="System.Text.Json.Utf8JsonReader.TryGetSingle"/> and
/// <see cref="System.Text.Json.Utf8JsonReader.TryGetDouble"/>: when a value falls outside the exact path the scanner parses it
/// with csFastFloat, which rounds correctly as <see cref="Utf8Parser"/> (their parse) does, and it gives up (the caller re-reads with the reader, which words the error) on
/// anything that is not a finite number or when the element count does not match.
/// </summary>
internal static class JsonNumberScanner
{
    // 10^0..10^22 are exact doubles; with a mantissa below 2^53, one multiplication or division is then correctly rounded
    // (Clinger), and rounding that double to float is correct too, as 53 >= 2 * 24 + 2 (Figueroa).
    private static readonly double[] s_powersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    private const ulong MaxExactMantissa = 1UL << 53;

    /// <summary>Reads every number of <paramref name="json"/> (which starts at the <c>data</c> value) into <paramref name="destination"/>.</summary>
    /// <returns>
    /// False when the value is not valid JSON, holds anything but finite numbers, not exactly <c>destination.Length</c> of them, or
    /// arrays nested otherwise than <paramref name="shape"/> allows (the rules of <see cref="TensorJsonParser.CheckClosingArray"/>).
    /// </returns>
    public static bool TryReadSingles(ReadOnlySpan<byte> json, Span<float> destination, ReadOnlySpan<long> shape) => TryRead(json, destination, shape);

    /// <inheritdoc cref="TryReadSingles"/>
    public static bool TryReadDoubles(ReadOnlySpan<byte> json, Span<double> destination, ReadOnlySpan<long> shape) => TryRead(json, destination, shape);

    private static bool TryRead<T>(ReadOnlySpan<byte> json, Span<T> destination, ReadOnlySpan<long> shape) where T : unmanaged
    {
        var i = 0;
        var count = 0;
        var depth = 0;
        // The structure checks of TensorJsonParser's walker, done as arrays open and close: a number costs nothing more.
        // Inline arrays rather than stackalloc: a method with localloc cannot be tiered up by on-stack replacement.
        var maxDepth = Math.Max(shape.Length, 1);
        var childArrays = new DepthCounts();
        var countAtOpen = new DepthCounts();
        var valueDepth = 0;
        // JSON's grammar between values: a value may come first, after '[' or after ','; ']' may not follow ','.
        var expectValue = true;
        var afterComma = false;
        do
        {
            if ((uint)i >= (uint)json.Length)
            {
                return false;
            }
            var c = json[i];
            switch (c)
            {
                case (byte)'[':
                    if (!expectValue || depth == maxDepth || (valueDepth != 0 && depth >= valueDepth))
                    {
                        return false;
                    }
                    childArrays[depth]++;
                    depth++;
                    childArrays[depth] = 0;
                    countAtOpen[depth] = count;
                    afterComma = false;
                    i++;
                    break;
                case (byte)']':
                    if (afterComma || depth == 0
                        || TensorJsonParser.CheckClosingArray(count - countAtOpen[depth], childArrays[depth], depth, ref valueDepth, shape) is not null)
                    {
                        return false;
                    }
                    depth--;
                    expectValue = false;
                    i++;
                    break;
                case (byte)',':
                    if (expectValue || depth == 0)
                    {
                        return false;
                    }
                    expectValue = true;
                    afterComma = true;
                    i++;
                    break;
                case (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t':
                    i++;
                    break;
                case (byte)'-' or >= (byte)'0' and <= (byte)'9':
                    if (!expectValue || count >= destination.Length || !TryReadNumber(json, ref i, out destination[count]))
                    {
                        return false;
                    }
                    count++;
                    expectValue = false;
                    afterComma = false;
                    break;
                default:
                    return false;
            }
        }
        while (depth > 0);
        return count == destination.Length;
    }

    private static bool TryReadNumber<T>(ReadOnlySpan<byte> json, ref int i, out T value) where T : unmanaged
    {
        value = default;
        var start = i;
        var negative = json[i] == (byte)'-';
        if (negative)
        {
            i++;
        }
        ulong mantissa = 0;
        var significantDigits = 0;
        var exponent = 0;
        var exact = true;
        // JSON numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        if (i >= json.Length || !IsDigit(json[i]) || (json[i] == (byte)'0' && i + 1 < json.Length && IsDigit(json[i + 1])))
        {
            return false;
        }
        for (; i < json.Length && IsDigit(json[i]); i++)
        {
            Accumulate(json[i] - '0', ref mantissa, ref significantDigits, ref exact);
        }
        if (i < json.Length && json[i] == (byte)'.')
        {
            if (++i >= json.Length || !IsDigit(json[i]))
            {
                return false;
            }
            for (; i < json.Length && IsDigit(json[i]); i++)
            {
                Accumulate(json[i] - '0', ref mantissa, ref significantDigits, ref exact);
                exponent--;
            }
        }
        if (i < json.Length && (json[i] | 0x20) == (byte)'e')
        {
            i++;
            var negativeExponent = false;
            if (i < json.Length && json[i] is (byte)'+' or (byte)'-')
            {
                negativeExponent = json[i] == (byte)'-';
                i++;
            }
            if (i >= json.Length || !IsDigit(json[i]))
            {
                return false;
            }
            var written = 0;
            for (; i < json.Length && IsDigit(json[i]); i++)
            {
                // Saturates: an exponent this large is out of the exact path either way.
                written = Math.Min(written * 10 + (json[i] - '0'), 100_000);
            }
            exponent += negativeExponent ? -written : written;
        }

        if (exact && mantissa <= MaxExactMantissa && exponent is >= -22 and <= 22)
        {
            double result = mantissa;
            result = exponent < 0 ? result / s_powersOfTen[-exponent] : result * s_powersOfTen[exponent];
            if (negative)
            {
                result = -result;
            }
            if (typeof(T) == typeof(float))
            {
                var single = (float)result;
                value = System.Runtime.CompilerServices.Unsafe.As<float, T>(ref single);
            }
            else
            {
                value = System.Runtime.CompilerServices.Unsafe.As<double, T>(ref result);
            }
            return true;
        }

        // Outside the exact path (more than 19 significant digits, a mantissa above 2^53 as every 17-digit double has, or an
        // exponent beyond 10^22): csFastFloat, correctly rounded like Utf8Parser (the parse Utf8JsonReader uses) and measured
        // 2.3x faster than it on such numbers (bench/OnlineBench --parse). The text is already a valid JSON number here.
        var text = json[start..i];
        if (typeof(T) == typeof(float))
        {
            var ok = FastFloatParser.TryParseFloat(text, out var consumed, out float single) && consumed == text.Length && float.IsFinite(single);
            value = System.Runtime.CompilerServices.Unsafe.As<float, T>(ref single);
            return ok;
        }
        else
        {
            var ok = FastDoubleParser.TryParseDouble(text, out var consumed, out double dbl) && consumed == text.Length && double.IsFinite(dbl);
            value = System.Runtime.CompilerServices.Unsafe.As<double, T>(ref dbl);
            return ok;
        }
    }

    private static bool IsDigit(byte c) => (uint)(c - '0') <= 9;

    private static void Accumulate(int digit, ref ulong mantissa, ref int significantDigits, ref bool exact)
    {
        // Leading zeros are not significant; beyond 19 digits the mantissa could overflow and the exact path is left.
        if ((mantissa != 0 || digit != 0) && ++significantDigits > 19)
        {
            exact = false;
        }
        if (exact)
        {
            mantissa = mantissa * 10 + (ulong)digit;
        }
    }
}
