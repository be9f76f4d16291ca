//! STAR syntax: the starfile corner cases, RELION fixtures, the writer and bad input.

use rbf_io::IoError;
use rbf_io::star::{BlockKind, StarBlock, StarFile, write_star};
use rbf_io::testdata::require;

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| s.to_string()).collect()
}

fn read(relative: &str) -> anyhow::Result<Option<StarFile>> {
    Ok(match require(relative) {
        Some(path) => Some(StarFile::read(path)?),
        None => None,
    })
}

fn loop_of(block: &StarBlock) -> (&[String], &[Vec<String>]) {
    match &block.kind {
        BlockKind::Loop { columns, rows } => (columns, rows),
        BlockKind::Pairs(_) => panic!("block {} is not a loop", block.name),
    }
}

#[test]
fn quoted_pairs_keep_spaces_and_empty_values() -> anyhow::Result<()> {
    for file in ["basic_double_quote.star", "basic_single_quote.star"] {
        let Some(star) = read(&format!("star_syntax/{file}"))? else {
            return Ok(());
        };
        assert_eq!(star.blocks.len(), 1);
        let block = &star.blocks[0];
        assert_eq!(block.name, "");
        let expected: Vec<(String, String)> = [
            ("no_quote_string", "noquote"),
            ("quote_string", "quote string"),
            ("whitespace_string", " "),
            ("empty_string", ""),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(block.kind, BlockKind::Pairs(expected), "{file}");
        assert_eq!(block.pair("whitespace_string"), Some(" "));
    }
    Ok(())
}

#[test]
fn quoted_loop_values_keep_spaces_and_empty_values() -> anyhow::Result<()> {
    for file in ["loop_double_quote.star", "loop_single_quote.star"] {
        let Some(star) = read(&format!("star_syntax/{file}"))? else {
            return Ok(());
        };
        let (columns, rows) = loop_of(&star.blocks[0]);
        assert_eq!(columns.len(), 8);
        assert_eq!(columns[7], "empty_string_and_normal_string");
        assert_eq!(
            rows,
            [
                strings(&["noquote", "quote string", " ", "", "4.0", "5.0", "6.0", ""]),
                strings(&[
                    "noquote",
                    "quote string",
                    " ",
                    "",
                    "noquote",
                    "",
                    "7.0",
                    "test"
                ]),
            ]
        );
        assert_eq!(star.blocks[0].lines, vec![12, 13], "{file}");
    }
    Ok(())
}

#[test]
fn empty_loop_has_columns_and_no_rows() -> anyhow::Result<()> {
    let Some(star) = read("star_syntax/empty_loop.star")? else {
        return Ok(());
    };
    let (columns, rows) = loop_of(&star.blocks[0]);
    assert_eq!(columns, strings(&["rlnCoordinateX"]));
    assert!(rows.is_empty());
    Ok(())
}

#[test]
fn unnamed_block_and_multi_block_files() -> anyhow::Result<()> {
    let Some(one) = read("star_syntax/one_loop.star")? else {
        return Ok(());
    };
    assert_eq!(one.blocks.len(), 1);
    assert_eq!(one.blocks[0].name, "");
    let table = one.table("")?;
    assert_eq!(table.len(), 16);
    assert_eq!(table.f64(15, "rlnCoordinateZ")?, Some(582.261));
    assert_eq!(
        table.str(0, "rlnMicrographName"),
        Some("tomo_ts01.mrc_15.00Apx.mrc")
    );

    let Some(post) = read("star_syntax/postprocess.star")? else {
        return Ok(());
    };
    let names: Vec<&str> = post.blocks.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["general", "fsc", "guinier"]);
    let general = post.block("general").expect("general");
    assert_eq!(general.pair("rlnFinalResolution"), Some("16.363636"));
    assert_eq!(general.pair("rlnMaskName"), Some("mask.mrc"));
    assert_eq!(post.table("fsc")?.len(), 49);
    assert_eq!(post.table("guinier")?.len(), 49);
    assert_eq!(
        post.table("fsc")?.f64(2, "rlnAngstromResolution")?,
        Some(360.0)
    );

    let Some(rln) = read("star_syntax/rln3.1_data_style.star")? else {
        return Ok(());
    };
    let rows: Vec<usize> = rln.blocks.iter().map(StarBlock::n_rows).collect();
    assert_eq!(rows, [1, 2, 2]);
    assert_eq!(
        rln.table("block_1")?.f64(0, "rlnImagePixelSize")?,
        Some(1.04)
    );

    for (file, expected) in [
        ("single_line_end_of_multiblock.star", [2, 1]),
        ("single_line_middle_of_multiblock.star", [1, 1]),
        ("two_single_line_loop_blocks.star", [1, 1]),
    ] {
        let Some(star) = read(&format!("star_syntax/{file}"))? else {
            return Ok(());
        };
        let rows: Vec<usize> = star.blocks.iter().map(StarBlock::n_rows).collect();
        assert_eq!(rows, expected, "{file}");
    }
    let Some(two) = read("star_syntax/two_single_line_loop_blocks.star")? else {
        return Ok(());
    };
    assert_eq!(loop_of(&two.blocks[1]).1, [strings(&["A", "B", "C"])]);

    let Some(basic) = read("star_syntax/two_basic_blocks.star")? else {
        return Ok(());
    };
    assert_eq!(
        basic.block("block_1").and_then(|b| b.pair("col3")),
        Some("C")
    );
    assert_eq!(
        basic.block("block_0").and_then(|b| b.pair("val2")),
        Some("2.0")
    );
    Ok(())
}

#[test]
fn every_relion_fixture_parses() -> anyhow::Result<()> {
    for (file, blocks) in [
        ("relion31.star", vec![("optics", 1), ("particles", 5)]),
        ("relion31.v2.star", vec![("particles", 5), ("optics", 1)]),
        (
            "relion31.6opticsgroups.star",
            vec![("optics", 6), ("particles", 139)],
        ),
        ("relion5.star", vec![("optics", 1), ("particles", 17)]),
        ("toy_projections.star", vec![("images", 1000)]),
        (
            "toy_projections_13.star",
            vec![("optics", 1), ("particles", 13)],
        ),
        ("empiar_10076_7.star", vec![("", 7)]),
        (
            "FinalRefinement-OriginalParticles-PfCRT.star",
            vec![("images", 5)],
        ),
    ] {
        let Some(star) = read(&format!("cryodrgn/{file}"))? else {
            return Ok(());
        };
        let got: Vec<(&str, usize)> = star
            .blocks
            .iter()
            .map(|b| (b.name.as_str(), b.n_rows()))
            .collect();
        assert_eq!(got, blocks, "{file}");
    }
    Ok(())
}

#[test]
fn writer_output_reads_back_identically() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("out.star");
    let awkward = [
        "",
        " ",
        "a b",
        "_x",
        "#c",
        "it's",
        "say \"hi\" now",
        "data_x",
        "LOOP_",
        "Å",
        "'q'",
        "1@a.mrcs",
    ];
    let blocks = vec![
        StarBlock::new_pairs(
            "general",
            awkward
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("k{i}"), v.to_string()))
                .collect(),
        ),
        StarBlock::new_loop(
            "particles",
            strings(&["rlnImageName", "rlnAngleRot", "note"]),
            vec![
                strings(&["1@a.mrcs", "-12.5", ""]),
                strings(&["2@a b.mrcs", "1e-3", "say \"hi\" now"]),
            ],
        ),
        StarBlock::new_loop("", strings(&["empty"]), vec![]),
        StarBlock::new_pairs("nothing", vec![]),
    ];
    write_star(&path, &blocks)?;
    let star = StarFile::read(&path)?;
    assert_eq!(star.blocks.len(), blocks.len());
    for (got, want) in star.blocks.iter().zip(&blocks) {
        assert_eq!((&got.name, &got.kind), (&want.name, &want.kind));
    }
    let err = write_star(
        &path,
        &[StarBlock::new_pairs(
            "x",
            vec![("k".into(), "two\nlines".into())],
        )],
    )
    .expect_err("must be rejected");
    assert!(matches!(err, IoError::InvalidArgument { .. }), "{err}");
    assert_eq!(
        StarFile::read(&path)?.blocks.len(),
        blocks.len(),
        "a failed write leaves the old file"
    );
    Ok(())
}

#[test]
fn bad_syntax_names_the_line() {
    let short = "data_particles\nloop_\n_rlnAngleRot #1\n_rlnAngleTilt #2\n1.0 2.0\n3.0\n";
    let err = StarFile::parse("short.star", short).expect_err("must be rejected");
    assert!(
        matches!(
            err,
            IoError::RowLength {
                line: 6,
                expected: 2,
                found: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().starts_with("short.star:6:"), "{err}");

    let cases = [
        ("data_a\n_key \"open\n", 2),
        ("_key value\n", 1),
        ("data_a\n_key\n", 2),
        ("data_a\nloop_\n1 2\n", 3),
        ("data_a\nloop_\n_x\n1\nloop_\n", 5),
        ("data_a\nloop_\n_x\n1\n_y 2\n", 5),
        ("data_a\n;text\n", 2),
    ];
    for (text, line) in cases {
        match StarFile::parse("bad.star", text) {
            Err(IoError::StarSyntax { line: got, .. }) => assert_eq!(got, line, "{text:?}"),
            other => panic!("{text:?}: expected a syntax error, got {other:?}"),
        }
    }
}

#[test]
fn numbers_are_checked_with_line_and_column() -> anyhow::Result<()> {
    let star = StarFile::parse(
        "angles.star",
        "# version 30001\ndata_particles\nloop_\n_rlnAngleRot #1\n_rlnAngleTilt #2\n10 20\n30 abc\n",
    )?;
    let table = star.table("particles")?;
    assert_eq!(table.f64(0, "rlnAngleRot")?, Some(10.0));
    assert_eq!(table.f64(0, "rlnAnglePsi")?, None);
    let err = table.f64(1, "rlnAngleTilt").expect_err("must be rejected");
    assert!(
        matches!(&err, IoError::BadValue { line: 7, column, value, .. } if column == "rlnAngleTilt" && value == "abc"),
        "{err}"
    );
    assert!(matches!(
        star.table("optics"),
        Err(IoError::MissingBlock { .. })
    ));
    Ok(())
}
