//! A deterministic set of synthetic camera captures of a version-25 QR code: what a
//! counter's webcam or a phone sees, not the clean PNG the wallet draws. Each capture is
//! made from `render::to_png` by a projective warp (scale to a non-integer module size,
//! rotation, keystone), lighting (dim, low contrast, a gradient), optical blur, sensor
//! noise and optionally a JPEG round trip, all seeded.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    dead_code,
    missing_docs
)]

use image::{GrayImage, ImageEncoder, Luma};

/// Pixels per module of the rendering every capture is made from.
pub const BASE_MODULE_PX: u32 = 4;

/// The base45 alphabet of the QR strings (alphanumeric mode).
const BASE45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// A small seeded generator (SplitMix64): deterministic captures without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    pub fn gauss(&mut self) -> f64 {
        let u1 = self.unit().max(1e-12);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A QR string like the system's: `EC1R:` and `len` base45 characters, seeded.
pub fn qr_text(seed: u64, len: usize) -> String {
    let mut rng = Rng::new(seed);
    let body: String = (0..len)
        .map(|_| char::from(BASE45[(rng.next_u64() % BASE45.len() as u64) as usize]))
        .collect();
    format!("EC1R:{body}")
}

/// The clean rendering every capture starts from, as grey pixels.
pub fn base_image(text: &str) -> GrayImage {
    let png = ecert_qr::render::to_png(text, BASE_MODULE_PX).unwrap();
    image::load_from_memory(&png).unwrap().to_luma8()
}

/// How the picture reaches the decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// A grey camera frame (`decode_luma`).
    Luma,
    /// A PNG file (`decode_image`).
    Png,
    /// A JPEG file of that quality (`decode_image`).
    Jpeg(u8),
}

/// Builder methods of [`Shot`] that each set the field of their name.
macro_rules! setters {
    ($($field:ident: $ty:ty),* $(,)?) => {
        $(
            pub fn $field(mut self, $field: $ty) -> Self {
                self.$field = $field;
                self
            }
        )*
    };
}

/// One capture's recipe.
#[derive(Clone, Debug)]
pub struct Shot {
    pub name: &'static str,
    /// Size relative to the base rendering (so pixels per module = 4 × scale).
    pub scale: f64,
    /// Rotation in degrees.
    pub angle: f64,
    /// Keystone: perspective coefficients (horizontal, vertical), ~0.05–0.15.
    pub keystone: (f64, f64),
    /// A fixed frame size (a webcam's 640×480); otherwise the code plus a margin.
    pub frame: Option<(u32, u32)>,
    /// Grey levels of the paper's white and of the ink under the light.
    pub white: f64,
    pub black: f64,
    /// Illumination falling off across the frame: 0 = even, 0.6 = the far side gets 40 %.
    pub gradient: f64,
    /// Gaussian blur sigma in pixels.
    pub blur: f32,
    /// Sensor noise sigma in grey levels.
    pub noise: f64,
    pub delivery: Delivery,
}

impl Shot {
    /// A clean capture at `scale`: only resampling.
    pub fn at(name: &'static str, scale: f64) -> Self {
        Shot {
            name,
            scale,
            angle: 0.0,
            keystone: (0.0, 0.0),
            frame: None,
            white: 255.0,
            black: 0.0,
            gradient: 0.0,
            blur: 0.0,
            noise: 0.0,
            delivery: Delivery::Luma,
        }
    }
    /// A camera's picture of the code at `scale`: turned by `angle` degrees, blurred by
    /// `blur`, with sensor noise `noise`, paper and ink lit to `light` (black, white).
    pub fn camera(
        name: &'static str,
        scale: f64,
        angle: f64,
        blur: f32,
        noise: f64,
        light: (f64, f64),
    ) -> Self {
        Shot::at(name, scale)
            .angle(angle)
            .blur(blur)
            .noise(noise)
            .light(light.0, light.1)
    }
    /// The same picture in a webcam's 640×480 frame.
    pub fn webcam(self) -> Self {
        self.frame(640, 480)
    }
    setters!(angle: f64, gradient: f64, blur: f32, noise: f64);
    pub fn keystone(mut self, h: f64, v: f64) -> Self {
        self.keystone = (h, v);
        self
    }
    pub fn frame(mut self, w: u32, h: u32) -> Self {
        self.frame = Some((w, h));
        self
    }
    pub fn light(mut self, black: f64, white: f64) -> Self {
        self.black = black;
        self.white = white;
        self
    }
    pub fn jpeg(mut self, quality: u8) -> Self {
        self.delivery = Delivery::Jpeg(quality);
        self
    }
    pub fn png(mut self) -> Self {
        self.delivery = Delivery::Png;
        self
    }
}

/// A capture as the decoder gets it.
pub enum Capture {
    Luma {
        width: u32,
        height: u32,
        pixels: Vec<u8>,
    },
    File(Vec<u8>),
}

impl Capture {
    /// Decoded with this crate's public API.
    pub fn decode(&self) -> Result<String, ecert_qr::QrError> {
        match self {
            Capture::Luma {
                width,
                height,
                pixels,
            } => ecert_qr::scan::decode_luma(*width, *height, pixels.clone()),
            Capture::File(bytes) => ecert_qr::scan::decode_image(bytes),
        }
    }
    /// The grey pixels (what the camera saw after compression).
    pub fn grey(&self) -> GrayImage {
        match self {
            Capture::Luma {
                width,
                height,
                pixels,
            } => GrayImage::from_raw(*width, *height, pixels.clone()).unwrap(),
            Capture::File(bytes) => image::load_from_memory(bytes).unwrap().to_luma8(),
        }
    }
}

/// Bilinear sample of the base image (`w` × `h` pixels); outside it, the desk the paper
/// lies on.
fn sample(base: &[u8], w: usize, h: usize, x: f64, y: f64, desk: f64) -> f64 {
    if x < 0.0 || y < 0.0 || x >= (w - 1) as f64 || y >= (h - 1) as f64 {
        return desk;
    }
    let (xi, yi) = (x as usize, y as usize);
    let (fx, fy) = (x - xi as f64, y - yi as f64);
    let i = yi * w + xi;
    let (a, b, c, d) = (base[i], base[i + 1], base[i + w], base[i + w + 1]);
    let top = f64::from(a) + (f64::from(b) - f64::from(a)) * fx;
    let bottom = f64::from(c) + (f64::from(d) - f64::from(c)) * fx;
    top + (bottom - top) * fy
}

/// Makes the capture `shot` of `base`, with noise from `seed`.
pub fn capture(base: &GrayImage, shot: &Shot, seed: u64) -> Capture {
    let mut rng = Rng::new(seed);
    let (bx, by) = (
        f64::from(base.width()) / 2.0,
        f64::from(base.height()) / 2.0,
    );
    let (sin, cos) = shot.angle.to_radians().sin_cos();
    // Keystone coefficients per source pixel from the centre.
    let (kh, kv) = (shot.keystone.0 / bx, shot.keystone.1 / by);
    // Page (from its centre) → frame (from the code's centre): the perspective, then
    // rotation and scale. The inverse of what the sampling loop does.
    let forward = |x: f64, y: f64| {
        let det = (1.0 + kh * x) * (1.0 + kv * y) - kv * x * kh * y;
        let x1 = (x * (1.0 + kv * y) - kv * x * y) / det;
        let y1 = ((1.0 + kh * x) * y - kh * y * x) / det;
        (
            shot.scale * (x1 * cos - y1 * sin),
            shot.scale * (x1 * sin + y1 * cos),
        )
    };
    let bounds = |inset: f64| {
        let corners = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]
            .map(|(a, b)| forward(a * (bx - inset), b * (by - inset)));
        let xs = corners.map(|c| c.0);
        let ys = corners.map(|c| c.1);
        let min = |v: [f64; 4]| v.into_iter().fold(f64::INFINITY, f64::min);
        let max = |v: [f64; 4]| v.into_iter().fold(f64::NEG_INFINITY, f64::max);
        (min(xs), max(xs), min(ys), max(ys))
    };
    let (x0, x1, y0, y1) = bounds(0.0);
    let (fw, fh) = shot.frame.unwrap_or_else(|| {
        // The page and a margin of desk around it.
        (
            ((x1 - x0) * 1.1 + 16.0).ceil() as u32,
            ((y1 - y0) * 1.1 + 16.0).ceil() as u32,
        )
    });
    let (cx, cy) = (
        f64::from(fw) / 2.0 - (x0 + x1) / 2.0,
        f64::from(fh) / 2.0 - (y0 + y1) / 2.0,
    );
    // The code and at least 2 modules of its quiet zone are in the frame.
    let (qx0, qx1, qy0, qy1) = bounds(2.0 * f64::from(BASE_MODULE_PX));
    assert!(
        qx0 + cx >= 0.0
            && qx1 + cx <= f64::from(fw)
            && qy0 + cy >= 0.0
            && qy1 + cy <= f64::from(fh),
        "{}: the code does not fit in the frame",
        shot.name
    );
    // Supersample when shrinking, so that downscaling averages like a sensor does.
    let ss: u32 = if shot.scale < 1.0 { 2 } else { 1 };
    let (raw, bw, bh) = (
        base.as_raw().as_slice(),
        base.width() as usize,
        base.height() as usize,
    );
    let desk_level = 0.45;
    let mut plane = vec![0.0f64; (fw * fh) as usize];
    for py in 0..fh {
        for px in 0..fw {
            let mut acc = 0.0;
            for sy in 0..ss {
                for sx in 0..ss {
                    let u = f64::from(px) + (f64::from(sx) + 0.5) / f64::from(ss) - cx;
                    let v = f64::from(py) + (f64::from(sy) + 0.5) / f64::from(ss) - cy;
                    // Frame → page: undo scale and rotation, then the perspective.
                    let (x1, y1) = (
                        (u * cos + v * sin) / shot.scale,
                        (-u * sin + v * cos) / shot.scale,
                    );
                    let w = 1.0 - kh * x1 - kv * y1;
                    let (x, y) = (x1 / w + bx, y1 / w + by);
                    acc += sample(raw, bw, bh, x, y, 255.0 * desk_level);
                }
            }
            plane[(py * fw + px) as usize] = acc / f64::from(ss * ss) / 255.0;
        }
    }
    // Light: ink and paper levels, falling off across the frame (diagonally).
    let mut img = GrayImage::new(fw, fh);
    for py in 0..fh {
        for px in 0..fw {
            let t = (f64::from(px) / f64::from(fw) + f64::from(py) / f64::from(fh)) / 2.0;
            let illum = 1.0 - shot.gradient * t;
            let r = plane[(py * fw + px) as usize];
            let level = (shot.black + r * (shot.white - shot.black)) * illum;
            img.put_pixel(px, py, Luma([level.round().clamp(0.0, 255.0) as u8]));
        }
    }
    if shot.blur > 0.0 {
        img = image::imageops::blur(&img, shot.blur);
    }
    if shot.noise > 0.0 {
        for p in img.pixels_mut() {
            let n = f64::from(p.0[0]) + shot.noise * rng.gauss();
            p.0[0] = n.round().clamp(0.0, 255.0) as u8;
        }
    }
    let (width, height) = img.dimensions();
    match shot.delivery {
        Delivery::Luma => Capture::Luma {
            width,
            height,
            pixels: img.into_raw(),
        },
        Delivery::Png => {
            let mut out = Vec::new();
            image::codecs::png::PngEncoder::new(&mut out)
                .write_image(img.as_raw(), width, height, image::ExtendedColorType::L8)
                .unwrap();
            Capture::File(out)
        }
        Delivery::Jpeg(q) => {
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q)
                .write_image(img.as_raw(), width, height, image::ExtendedColorType::L8)
                .unwrap();
            Capture::File(out)
        }
    }
}

/// The capture set: 44 recipes, from clean resamplings to dim, blurred, tilted phone photos
/// and 640×480 webcam frames of a distant code. A table: one recipe a line.
#[rustfmt::skip]
pub fn shots() -> Vec<Shot> {
    vec![
        // Clean captures at non-integer module sizes (4 px × scale).
        Shot::at("scale 0.70", 0.70),
        Shot::at("scale 0.80", 0.80),
        Shot::at("scale 0.90", 0.90),
        Shot::at("scale 1.10", 1.10),
        Shot::at("scale 1.35", 1.35),
        Shot::at("scale 1.50", 1.50),
        Shot::at("scale 1.75", 1.75),
        Shot::at("scale 2.00", 2.00).png(),
        // Small rotations.
        Shot::at("rot +3 @1.05", 1.05).angle(3.0),
        Shot::at("rot -5 @0.95", 0.95).angle(-5.0),
        Shot::at("rot +7 @1.25", 1.25).angle(7.0),
        Shot::at("rot -10 @1.4", 1.4).angle(-10.0),
        // Perspective (the phone not parallel to the paper).
        Shot::at("keystone h @1.2", 1.2).keystone(0.12, 0.0),
        Shot::at("keystone hv @1.1 rot 4", 1.1).keystone(0.08, 0.06).angle(4.0),
        // Optical blur.
        Shot::at("blur 0.5 @0.9", 0.9).blur(0.5),
        Shot::at("blur 1.0 @1.1", 1.1).blur(1.0),
        Shot::at("blur 1.5 @1.6", 1.6).blur(1.5),
        // Sensor noise.
        Shot::at("noise 12 @1.0", 1.0).noise(12.0),
        Shot::at("noise 25 @1.3", 1.3).noise(25.0),
        // Dim light: contrast ~30–40 %, low brightness.
        Shot::at("dim 35% @1.1", 1.1).light(20.0, 110.0),
        Shot::at("dim 30% noisy @0.95", 0.95).light(15.0, 92.0).noise(5.0),
        // Uneven light (a lamp on one side).
        Shot::at("gradient 0.6 @1.2", 1.2).gradient(0.6),
        Shot::at("gradient 0.7 dim @1.0", 1.0).light(10.0, 170.0).gradient(0.7),
        // JPEG round trips.
        Shot::at("jpeg q70 @1.15", 1.15).jpeg(70),
        Shot::at("jpeg q50 @1.3", 1.3).jpeg(50),
        Shot::at("jpeg q30 @1.6", 1.6).jpeg(30),
        // Phone photos: everything at once.
        Shot::camera("phone A", 1.3, 4.0, 0.8, 6.0, (25.0, 200.0)).keystone(0.06, 0.0).jpeg(60),
        Shot::camera("phone B", 1.05, -6.0, 1.0, 8.0, (30.0, 150.0)).gradient(0.4).jpeg(50),
        Shot::camera("phone C", 1.6, 8.0, 1.3, 10.0, (20.0, 120.0)).keystone(0.0, 0.08).jpeg(40),
        Shot::camera("phone D", 0.9, 3.0, 0.7, 6.0, (15.0, 100.0)).jpeg(70),
        Shot::camera("phone E", 1.2, -3.0, 1.0, 12.0, (0.0, 255.0)).keystone(0.1, 0.05).gradient(0.5).jpeg(35),
        // Webcam frames, 640×480, the code distant (~2.8–3.6 px a module), dim.
        Shot::camera("webcam far", 0.75, 2.0, 0.6, 5.0, (35.0, 170.0)).webcam(),
        Shot::camera("webcam far dim", 0.8, -4.0, 0.8, 6.0, (20.0, 100.0)).webcam(),
        Shot::camera("webcam dim gradient", 0.9, 5.0, 0.7, 6.0, (15.0, 120.0)).webcam().gradient(0.5),
        Shot::camera("webcam tilted", 0.85, -8.0, 0.9, 8.0, (30.0, 140.0)).webcam().keystone(0.08, 0.0),
        Shot::camera("webcam jpeg", 0.9, 3.0, 0.8, 6.0, (25.0, 130.0)).webcam().jpeg(60),
        // What neither rqrr nor zbar reads well: a code ~2.5 px a module across a
        // webcam frame, very dim light, heavy noise, strong blur, a deep shadow.
        Shot::camera("webcam distant", 0.62, -2.0, 0.7, 5.0, (30.0, 150.0)).webcam(),
        Shot::camera("webcam distant dim", 0.66, 3.0, 0.8, 6.0, (15.0, 80.0)).webcam(),
        Shot::at("very dim 15%", 1.0).light(10.0, 50.0).noise(3.0).blur(0.6),
        Shot::at("heavy noise 40", 1.2).noise(40.0),
        Shot::camera("dark noisy webcam", 0.9, -5.0, 1.0, 10.0, (5.0, 60.0)).webcam(),
        Shot::at("strong blur 2.2", 1.5).blur(2.2),
        Shot::at("deep shadow", 1.1).light(10.0, 220.0).gradient(0.85).noise(5.0),
        Shot::at("jpeg q20 small", 0.85).blur(0.6).jpeg(20),
    ]
}
