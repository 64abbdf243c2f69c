//! Graph building and checking: errors name the node, the op and the shapes.

use strata_ir::{Graph, GraphBuilder, IrError, Op};
use strata_tensor::{Conv2dParams, DType, Shape};

fn input(dims: &[usize]) -> Op {
    Op::Input {
        shape: Shape::from(dims),
        dtype: DType::F32,
    }
}

fn small_graph() -> Graph {
    let mut b = GraphBuilder::new();
    let x = b.push_named("x", input(&[2]), &[]).unwrap();
    let y = b.push_named("y", Op::Relu, &[x]).unwrap();
    let z = b.push(Op::Add, &[x, y]).unwrap();
    b.finish(&[z]).unwrap()
}

#[test]
fn the_builder_infers_types_and_reports_mismatches_at_push() {
    let mut b = GraphBuilder::new();
    let x = b.push_named("image", input(&[1, 3, 8, 8]), &[]).unwrap();
    let w = b
        .push(
            Op::Parameter {
                name: "w".into(),
                shape: [4, 2, 3, 3].into(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    let conv = Op::Conv2d {
        params: Conv2dParams::default(),
        bias: false,
    };
    let err = b.push_named("conv", conv, &[x, w]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("node %2 \"conv\" (conv2d): inputs f32[1, 3, 8, 8], f32[4, 2, 3, 3]: "),
        "{text}"
    );
    let err = b.push(Op::Add, &[x]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "node %2 (add): inputs f32[1, 3, 8, 8]: takes exactly 2 inputs, got 1"
    );
    let err = b.push(Op::Relu, &[7]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "node %2 (relu): input %7 is not an earlier node"
    );
    // Failed pushes leave the builder unchanged.
    let relu = b.push(Op::Relu, &[x]).unwrap();
    assert_eq!(relu, 2);
    assert_eq!(b.ty(relu).unwrap().to_string(), "f32[1, 3, 8, 8]");
    assert_eq!(b.finish(&[9]).unwrap_err(), IrError::BadOutput { id: 9 });
}

#[test]
fn check_well_formed_catches_ids_order_and_arity() {
    let good = small_graph();
    good.check_well_formed().unwrap();
    good.check_shapes().unwrap();

    let mut g = good.clone();
    g.nodes[1].id = 5;
    assert_eq!(
        g.check_well_formed().unwrap_err().to_string(),
        "the node at position 1 has id %5"
    );

    let mut g = good.clone();
    g.nodes[1].inputs = vec![1];
    assert_eq!(
        g.check_well_formed().unwrap_err().to_string(),
        "node %1 \"y\" (relu): input %1 is not an earlier node"
    );

    let mut g = good.clone();
    g.nodes[2].inputs = vec![0];
    assert_eq!(
        g.check_well_formed().unwrap_err().to_string(),
        "node %2 (add): inputs f32[2]: takes exactly 2 inputs, got 1"
    );

    let mut g = good;
    g.outputs = vec![3];
    assert_eq!(g.check_shapes().unwrap_err(), IrError::BadOutput { id: 3 });
}

#[test]
fn check_shapes_compares_declared_and_inferred_types() {
    let mut g = small_graph();
    g.nodes[1].shape = Shape::from([3]);
    assert_eq!(
        g.check_shapes().unwrap_err().to_string(),
        "node %1 \"y\" (relu): declared f32[3], but inputs f32[2] give f32[2]"
    );
    let mut g = small_graph();
    g.nodes[2].dtype = DType::F64;
    assert!(g
        .check_shapes()
        .unwrap_err()
        .to_string()
        .contains("declared f64[2]"));
    // A rule failure on declared input types names the node, the op and the types.
    let mut g = small_graph();
    g.nodes[1].op = Op::Softmax { axis: 3 };
    assert_eq!(
        g.check_shapes().unwrap_err().to_string(),
        "node %1 \"y\" (softmax): inputs f32[2]: axis 3 is out of range for rank 1"
    );
}

#[test]
fn listings_of_inputs_and_parameters() {
    let mut b = GraphBuilder::new();
    let x = b.push_named("x", input(&[2, 3]), &[]).unwrap();
    let w = b
        .push(
            Op::Parameter {
                name: "fc.weight".into(),
                shape: [4, 3].into(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    let y = b.push(Op::Linear { bias: false }, &[x, w]).unwrap();
    let g = b.finish(&[y]).unwrap();
    let inputs: Vec<_> = g.inputs().map(|n| n.id).collect();
    let params: Vec<_> = g.parameters().map(|n| n.id).collect();
    assert_eq!((inputs, params), (vec![0], vec![1]));
    assert_eq!(g.nodes[y].shape, Shape::from([2, 4]));
}

#[test]
fn a_parameter_name_has_one_type() {
    let param = |dims: &[usize]| Op::Parameter {
        name: "shared".into(),
        shape: Shape::from(dims),
        dtype: DType::F32,
    };
    let mut b = GraphBuilder::new();
    let first = b.push(param(&[2]), &[]).unwrap();
    let again = b.push(param(&[2]), &[]).unwrap();
    let sum = b.push(Op::Add, &[first, again]).unwrap();
    let g = b.clone().finish(&[sum]).unwrap();
    let types = g.parameter_types().unwrap();
    assert_eq!(types.len(), 1);
    assert_eq!(types["shared"].to_string(), "f32[2]");
    b.push(param(&[3]), &[]).unwrap();
    let g = b.finish(&[sum]).unwrap();
    assert_eq!(
        g.check_shapes().unwrap_err().to_string(),
        "node %3 (parameter): no inputs: parameter `shared` is f32[3] here but f32[2] at node %0"
    );
}
