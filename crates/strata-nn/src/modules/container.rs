//! Containers: `Sequential`, a residual wrapper and torchvision's ResNet `BasicBlock`.

use super::{BatchNorm, Conv2d, Ctx, Init, Module};
use crate::Result;
use strata_autograd::Var;

/// `nn.Sequential`: children applied in order, named `0`, `1`, … (or by the names given to
/// [`Sequential::append_named`], as with an `OrderedDict`).
#[derive(Default)]
pub struct Sequential {
    children: Vec<(String, Box<dyn Module>)>,
}

impl Sequential {
    pub fn new() -> Sequential {
        Sequential::default()
    }
    /// Appends a child named by its position.
    pub fn append(mut self, module: impl Module + 'static) -> Sequential {
        let name = self.children.len().to_string();
        self.children.push((name, Box::new(module)));
        self
    }
    /// Appends a child with a name.
    pub fn append_named(mut self, name: &str, module: impl Module + 'static) -> Sequential {
        self.children.push((name.to_string(), Box::new(module)));
        self
    }
    /// Appends a boxed child named by its position.
    pub fn push(&mut self, module: Box<dyn Module>) {
        let name = self.children.len().to_string();
        self.children.push((name, module));
    }
    pub fn len(&self) -> usize {
        self.children.len()
    }
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }
}

impl Module for Sequential {
    fn init(&self, init: &mut Init) -> Result<()> {
        for (name, m) in &self.children {
            init.child(name, &**m)?;
        }
        Ok(())
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let mut h = x.clone();
        for (name, m) in &self.children {
            h = m.forward(&ctx.child(name), &h)?;
        }
        Ok(h)
    }
}

/// `x + f(x)`, with `f` as the child `fn` (a PyTorch module storing it as `self.fn`).
pub struct Residual {
    pub inner: Box<dyn Module>,
}

impl Residual {
    pub fn new(inner: impl Module + 'static) -> Residual {
        Residual {
            inner: Box::new(inner),
        }
    }
}

impl Module for Residual {
    fn init(&self, init: &mut Init) -> Result<()> {
        init.child("fn", &*self.inner)
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let fx = self.inner.forward(&ctx.child("fn"), x)?;
        Ok(x.add(&fx)?)
    }
}

/// torchvision's ResNet `BasicBlock(inplanes, planes, stride)`: `conv1` (3×3, stride, no bias),
/// `bn1`, ReLU, `conv2` (3×3, no bias), `bn2`, plus the shortcut, then ReLU. The shortcut is the
/// identity, or, when the stride is not 1 or the width changes, `downsample` = a 1×1 convolution
/// (`downsample.0`) and a batch norm (`downsample.1`), as torchvision's `_make_layer` builds it.
pub struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    downsample: Option<Sequential>,
}

impl BasicBlock {
    pub fn new(inplanes: usize, planes: usize, stride: usize) -> BasicBlock {
        let downsample = (stride != 1 || inplanes != planes).then(|| {
            Sequential::new()
                .append(Conv2d::new(inplanes, planes, 1).stride(stride).bias(false))
                .append(BatchNorm::d2(planes))
        });
        BasicBlock {
            conv1: Conv2d::new(inplanes, planes, 3)
                .stride(stride)
                .padding(1)
                .bias(false),
            bn1: BatchNorm::d2(planes),
            conv2: Conv2d::new(planes, planes, 3).padding(1).bias(false),
            bn2: BatchNorm::d2(planes),
            downsample,
        }
    }
}

impl Module for BasicBlock {
    fn init(&self, init: &mut Init) -> Result<()> {
        init.child("conv1", &self.conv1)?;
        init.child("bn1", &self.bn1)?;
        init.child("conv2", &self.conv2)?;
        init.child("bn2", &self.bn2)?;
        if let Some(d) = &self.downsample {
            init.child("downsample", d)?;
        }
        Ok(())
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let out = self.conv1.forward(&ctx.child("conv1"), x)?;
        let out = self.bn1.forward(&ctx.child("bn1"), &out)?.relu()?;
        let out = self.conv2.forward(&ctx.child("conv2"), &out)?;
        let out = self.bn2.forward(&ctx.child("bn2"), &out)?;
        let identity = match &self.downsample {
            Some(d) => d.forward(&ctx.child("downsample"), x)?,
            None => x.clone(),
        };
        Ok(out.add(&identity)?.relu()?)
    }
}
