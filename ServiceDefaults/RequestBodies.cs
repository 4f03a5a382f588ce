using Microsoft.AspNetCore.Http;

namespace Microsoft.Extensions.Hosting;

/// <summary>Request bodies an endpoint reads whole, by hand (to word its own errors): bounded, and without a UTF-8 byte-order mark.</summary>
public static class RequestBodies
{
    /// <summary>
    /// The whole body, or null when it is longer than <paramref name="limit"/> bytes: refused from its declared length before anything
    /// is read, else as soon as the bytes read pass the limit (read no further).
    /// </summary>
    public static async Task<ReadOnlyMemory<byte>?> ReadBoundedAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > limit)
        {
            return null;
        }
        var body = new MemoryStream();
        var buffer = new byte[(int)Math.Min(81920, limit + 1)];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (body.Length + read > limit)
            {
                return null;
            }
            body.Write(buffer, 0, read);
        }
        return body.GetBuffer().AsMemory(0, (int)body.Length);
    }

    /// <summary>
    /// <paramref name="body"/> without its UTF-8 byte-order mark, if it has one: editors and Windows tools save files with it, and it is
    /// not part of the JSON.
    /// </summary>
    public static ReadOnlyMemory<byte> WithoutByteOrderMark(ReadOnlyMemory<byte> body) =>
        body.Span.StartsWith("\uFEFF"u8) ? body[3..] : body;
}
